"""Identity keys as identity matches them (same normalisation, same priority), and provisional subject ids.

An upstream event names a person by hints, not by profile id. Until crm.identity tells us which profile a
key belongs to, the event is kept under a provisional subject derived from its strongest key; when the
link arrives, the events move to the profile (see features/identity.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from fairway_schemas.identity_keys import DEFAULT_REGION, ORDER, canonical

# Identity's resolution order: the first key that matches decides.
KEY_TYPES: tuple[str, ...] = ORDER
PII_KEY_TYPES = frozenset({"email", "phoneNumber"})


def normalise(key_type: str, value: object, phone_region: str = DEFAULT_REGION) -> str | None:
    """The canonical form of one key as identity reads it (`fairway_schemas.identity_keys`), or None."""
    return canonical(key_type, value, phone_region)


def key(key_type: str, value: str) -> str:
    return f"{key_type}:{value}"


def keys_from_hints(hints: Mapping[str, object], phone_region: str = DEFAULT_REGION) -> list[str]:
    """Usable keys of an event's identity hints, strongest first."""
    out = []
    for kt in KEY_TYPES:
        v = normalise(kt, hints.get(kt), phone_region)
        if v is not None:
            out.append(key(kt, v))
    return out


def keys_from_lists(
    identities: Mapping[str, Iterable[object]], phone_region: str = DEFAULT_REGION
) -> list[str]:
    """Every key of a ProfileSnapshot's identities (a person may have several emails or phones)."""
    out: list[str] = []
    for kt in KEY_TYPES:
        for raw in identities.get(kt) or ():
            v = normalise(kt, raw, phone_region)
            if v is not None and key(kt, v) not in out:
                out.append(key(kt, v))
    return out


def provisional_subject(tenant_id: str, strongest_key: str) -> str:
    """A stable subject id for events nobody has resolved yet. Emails and phones are hashed: subject ids
    travel into the online store and API responses, identity values should not."""
    key_type, _, value = strongest_key.partition(":")
    if key_type in PII_KEY_TYPES:
        digest = hashlib.sha256(f"{tenant_id}\x1f{strongest_key}".encode()).hexdigest()[:20]
        return f"{key_type}#{digest}"
    return strongest_key
