"""GET /api/v1/customers/resolve: who do these identifiers belong to? Read-only: never creates a profile."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from fairway_chassis import NotFound, SessionDep, Unprocessable
from fairway_identity.deps import Reader, SettingsDep
from fairway_identity.keys import Rejected, keys_from_hints
from fairway_identity.profiles.repository import ProfileRepository
from fairway_identity.profiles.schemas import Customer
from fairway_identity.profiles.service import to_customer
from fairway_identity.resolution.engine import choose

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])
Hint = Annotated[str | None, Query(max_length=320)]


class Resolution(BaseModel):
    profile: Customer
    matchedBy: list[str]
    confidence: int
    conflicts: list[dict[str, Any]]
    rejected: list[dict[str, str]]


@router.get("/resolve", response_model=Resolution)
async def resolve(
    session: SessionDep,
    principal: Reader,
    settings: SettingsDep,
    email: Hint = None,
    phoneNumber: Hint = None,
    sclMemberId: Hint = None,
    teetimePlayerId: Hint = None,
    authUserId: Hint = None,
    messagingContactId: Hint = None,
) -> Resolution:
    tenant = principal.tenant_id
    policy = settings.policy_for(tenant)
    hints = {
        "email": email,
        "phoneNumber": phoneNumber,
        "sclMemberId": sclMemberId,
        "teetimePlayerId": teetimePlayerId,
        "authUserId": authUserId,
        "messagingContactId": messagingContactId,
    }
    if all(v is None for v in hints.values()):
        raise Unprocessable("give at least one of " + ", ".join(hints), field="query")
    keys, rejected = keys_from_hints(hints, policy.default_region, frozenset(policy.blocked_values))
    repo = ProfileRepository.for_tenant(session, tenant)
    blocked = await repo.blocked([(k.type, k.value) for k in keys])
    rejected += [Rejected(k.type, k.value, "blocked value") for k in keys if (k.type, k.value) in blocked]
    keys = [k for k in keys if (k.type, k.value) not in blocked]
    if not keys:
        raise Unprocessable(f"{rejected[0].reason}: not usable as an identifier", field=rejected[0].type)
    owners = await repo.owners([(k.type, k.value) for k in keys])
    rows = await repo.read_many(owners.values())
    chosen, _ = choose(
        keys,
        lambda k: owners.get((k.type, k.value)),
        lambda pid: rows[pid].identities if pid in rows else {},
        policy.unique_ids,
    )
    if chosen is None or chosen not in rows:
        raise NotFound("no customer matches these identifiers")
    matched = [k for k in keys if owners.get((k.type, k.value)) == chosen]
    return Resolution(
        profile=to_customer(rows[chosen]),
        matchedBy=[k.type for k in matched],
        confidence=max(k.confidence for k in matched),
        conflicts=[
            {"keyType": k.type, "value": k.value, "profileId": owners[(k.type, k.value)]}
            for k in keys
            if owners.get((k.type, k.value)) not in (None, chosen)
        ],
        rejected=[r.as_log() for r in rejected],
    )
