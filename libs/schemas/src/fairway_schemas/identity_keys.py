"""Identity keys in canonical form: how every Fairway service reads an email, a phone number or a system id.

Identity resolves people by these keys; timeline, segmentation and ml-scoring map upstream events to profiles
by the same keys, so all of them must read a raw value the same way, or an event would find no profile (or the
wrong one). One implementation, here: emails trimmed and lower-cased, phones in E.164 read in the tenant's
region with the `phonenumbers` library, system ids trimmed. Junk (empty values, placeholder emails and ids,
all-zero or repeated-digit phones) has no canonical form: `normalize` gives None and the reason.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

# Resolution order (implementation guide): the first key that finds a profile decides it.
ORDER = ("authUserId", "email", "phoneNumber", "sclMemberId", "teetimePlayerId", "messagingContactId")
DEFAULT_REGION = "ZA"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
PLACEHOLDER_LOCAL_PARTS = frozenset(
    {
        "test",
        "testing",
        "noemail",
        "no-email",
        "no_email",
        "no.email",
        "nomail",
        "none",
        "null",
        "nil",
        "na",
        "n/a",
        "unknown",
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "dummy",
        "fake",
        "placeholder",
        "example",
    }
)
PLACEHOLDER_DOMAINS = frozenset(
    {
        "example.com",
        "example.org",
        "example.net",
        "test.com",
        "invalid",
        "localhost",
        "noemail.com",
        "nomail.com",
        "none.com",
        "domain.com",
        "email.invalid",
    }
)
PLACEHOLDER_IDS = frozenset({"", "-", "0", "null", "none", "nil", "undefined", "nan", "n/a", "na", "unknown"})


def normalize_email(raw: str) -> tuple[str | None, str | None]:
    """(normalised, None) or (None, reason)."""
    v = raw.strip().lower()
    if not v:
        return None, "empty"
    if not _EMAIL.match(v):
        return None, "not an email address"
    local, _, domain = v.rpartition("@")
    if local in PLACEHOLDER_LOCAL_PARTS or domain in PLACEHOLDER_DOMAINS or domain.endswith(".invalid"):
        return None, "placeholder email"
    return v, None


@lru_cache(maxsize=200_000)
def normalize_phone(raw: str, region: str) -> tuple[str | None, str | None]:
    """E.164 in `region` when the number carries no country code; numbers written with their country code
    but no '+' (27821234567) are recognised too."""
    v = raw.strip()
    digits = re.sub(r"\D", "", v)
    if not digits:
        return None, "empty"
    if set(digits) == {"0"}:
        return None, "all-zero phone"
    if v.startswith("00"):
        v = "+" + v[2:].lstrip()
    candidates = [v] if v.startswith("+") else [v, "+" + digits]
    for c in candidates:
        try:
            n = phonenumbers.parse(c, region)
        except phonenumbers.NumberParseException:
            continue
        national = str(n.national_number)
        if set(national) == {"0"}:
            return None, "all-zero phone"
        if phonenumbers.is_valid_number(n):
            if len(set(national)) == 1:
                return None, "placeholder phone"
            return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164), None
    return None, f"not a valid phone number (read in region {region})"


def normalize_id(raw: str) -> tuple[str | None, str | None]:
    v = raw.strip()
    if v.lower() in PLACEHOLDER_IDS or set(v) == {"0"}:
        return None, "placeholder id" if v else "empty"
    if len(v) > 200:
        return None, "id longer than 200 characters"
    return v, None


def normalize(key_type: str, raw: str, region: str) -> tuple[str | None, str | None]:
    if key_type == "email":
        return normalize_email(raw)
    if key_type == "phoneNumber":
        return normalize_phone(raw, region)
    return normalize_id(raw)


def canonical(key_type: str, raw: object, region: str = DEFAULT_REGION) -> str | None:
    """The canonical form of a raw key value, or None when it cannot identify anyone."""
    if raw is None or isinstance(raw, bool):
        return None
    return normalize(key_type, str(raw), region)[0]
