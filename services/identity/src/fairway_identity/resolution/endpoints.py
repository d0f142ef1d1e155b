"""GET /api/v1/customers/resolve: who do these identifiers belong to? Read-only: never creates a profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from fairway_chassis import SessionDep, error_responses
from fairway_identity.deps import Reader, SettingsDep
from fairway_identity.profiles.repository import ProfileRepository
from fairway_identity.resolution.lookup import resolve_hints
from fairway_identity.resolution.schemas import Resolution

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])
Hint = Annotated[str | None, Query(max_length=320)]


@router.get("/resolve", responses=error_responses(404), response_model=Resolution)
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
    hints = {
        "email": email,
        "phoneNumber": phoneNumber,
        "sclMemberId": sclMemberId,
        "teetimePlayerId": teetimePlayerId,
        "authUserId": authUserId,
        "messagingContactId": messagingContactId,
    }
    repo = ProfileRepository.for_tenant(session, principal.tenant_id)
    return await resolve_hints(repo, settings.policy_for(principal.tenant_id), hints)
