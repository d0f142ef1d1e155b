"""Identity keys as identity matches them: normalised the same way, tried in the same priority order."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import phonenumbers

# Identity's resolution order (issue 3 / implementation guide): the first key that matches decides.
KEY_TYPES: tuple[str, ...] = (
    "authUserId",
    "email",
    "phoneNumber",
    "sclMemberId",
    "teetimePlayerId",
    "messagingContactId",
)
RANK = {k: i for i, k in enumerate(KEY_TYPES)}


@dataclass(frozen=True, order=True)
class Key:
    rank: int
    key_type: str
    value: str


def normalise(key_type: str, value: object, phone_region: str = "ZA") -> str | None:
    """The canonical form of one key, or None when it cannot identify anyone.

    Email: trimmed and lower-cased. Phone: E.164 via phonenumbers with the tenant's default region, so
    `082 123 4567`, `+27 82 123 4567` and `27821234567` are one number. Other ids: trimmed strings.
    """
    if value is None or isinstance(value, bool):
        return None
    raw = str(value).strip()
    if not raw:
        return None
    if key_type == "email":
        email = raw.lower()
        return email if "@" in email and len(email) <= 320 else None
    if key_type == "phoneNumber":
        return _phone(raw, phone_region)
    return raw[:320]


@functools.lru_cache(maxsize=65_536)
def _phone(raw: str, region: str) -> str | None:
    # Cached: parsing is the costliest step of turning an event into an activity, and people recur.
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not digits.strip("0"):
        return None
    if raw.startswith("00"):  # international prefix written out: 0027...
        raw = "+" + raw[2:].lstrip()
    # `27821234567`: a national parse fails, an international one with a + succeeds (as identity reads it).
    candidates = [raw] if raw.startswith("+") else [raw, "+" + digits]
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        # Permissive on purpose: a key identity rejects as junk is simply never announced, but a number we
        # rejected and identity kept would never match.
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def keys_from_hints(hints: Mapping[str, object], phone_region: str) -> list[Key]:
    """The usable keys of an event's identity hints, highest priority first."""
    out = []
    for key_type in KEY_TYPES:
        value = normalise(key_type, hints.get(key_type), phone_region)
        if value is not None:
            out.append(Key(RANK[key_type], key_type, value))
    return out


def keys_from_lists(identities: Mapping[str, Iterable[object]], phone_region: str) -> list[Key]:
    """All keys of a ProfileSnapshot's identities (a person may have several emails or phones)."""
    out: set[Key] = set()
    for key_type in KEY_TYPES:
        for raw in identities.get(key_type) or ():
            value = normalise(key_type, raw, phone_region)
            if value is not None:
                out.add(Key(RANK[key_type], key_type, value))
    return sorted(out)


def key_hash(tenant_id: str, key_type: str, value: str) -> str:
    return hashlib.sha256(f"{tenant_id}\x1f{key_type}\x1f{value}".encode()).hexdigest()
