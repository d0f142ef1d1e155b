"""Identity keys: resolution order, confidence, and the usable keys of an event. Pure functions.

Every key is compared in canonical form (`fairway_schemas.identity_keys`, shared with the services that map
events to profiles): emails trimmed and lower-cased, phones in E.164 read in the tenant's region, system ids
trimmed. Junk (empty, placeholders, all-zero phones) and the tenant's blocked values are rejected with a
reason, so they never link two people together.
"""

from __future__ import annotations

from dataclasses import dataclass

from fairway_schemas.identity_keys import (  # noqa: F401  (re-exported: identity's modules read keys from here)
    ORDER,
    normalize,
    normalize_email,
    normalize_id,
    normalize_phone,
)

CONFIDENCE = {
    "authUserId": 100,
    "email": 95,
    "phoneNumber": 85,
    "sclMemberId": 100,
    "teetimePlayerId": 100,
    "messagingContactId": 100,
}
RANK = {t: i for i, t in enumerate(ORDER)}
TokenT = tuple[str, str, str]  # (tenant, keyType, value): a key as stored, per tenant


@dataclass(frozen=True, order=True)
class Key:
    type: str
    value: str

    @property
    def token(self) -> str:
        return f"{self.type}:{self.value}"

    @property
    def confidence(self) -> int:
        return CONFIDENCE[self.type]


@dataclass(frozen=True)
class Rejected:
    type: str
    value: str
    reason: str

    def as_log(self) -> dict[str, str]:
        return {"keyType": self.type, "value": self.value, "reason": self.reason}


def keys_from_hints(
    hints: dict[str, str | None], region: str, blocked: frozenset[str] | set[str] = frozenset()
) -> tuple[list[Key], list[Rejected]]:
    """The usable keys of an event in resolution order, and what was rejected and why."""
    keys: list[Key] = []
    rejected: list[Rejected] = []
    for t in ORDER:
        raw = hints.get(t)
        if raw is None:
            continue
        value, reason = normalize(t, str(raw), region)
        if value is None:
            rejected.append(Rejected(t, str(raw), reason or "rejected"))
        elif f"{t}:{value}" in blocked:
            rejected.append(Rejected(t, value, "blocked value"))
        else:
            keys.append(Key(t, value))
    return keys, rejected
