"""Identity keys as identity matches them: normalised the same way, tried in the same priority order."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fairway_schemas.identity_keys import DEFAULT_REGION, ORDER, canonical

# Identity's resolution order (implementation guide): the first key that matches decides.
KEY_TYPES: tuple[str, ...] = ORDER
RANK = {k: i for i, k in enumerate(KEY_TYPES)}


@dataclass(frozen=True, order=True)
class Key:
    rank: int
    key_type: str
    value: str


def normalise(key_type: str, value: object, phone_region: str = DEFAULT_REGION) -> str | None:
    """The canonical form of one key as identity reads it (`fairway_schemas.identity_keys`), or None."""
    return canonical(key_type, value, phone_region)


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
