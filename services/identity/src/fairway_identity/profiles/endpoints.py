"""GET/PATCH /api/v1/customers: list, read, staff edits."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from fairway_chassis import SessionDep, error_responses
from fairway_identity.deps import Editor, Reader, SettingsDep
from fairway_identity.ids import UUID_PATTERN
from fairway_identity.profiles import service
from fairway_identity.profiles.repository import ProfileRepository
from fairway_identity.profiles.schemas import Customer, CustomerPage, CustomerPatch
from fairway_identity.profiles.search import CustomerSearch, search_customers

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])
ProfileId = Annotated[str, Path(pattern=UUID_PATTERN, description="profile id (a UUID)")]
Status = Literal["ACTIVE", "INACTIVE", "MERGED", "DELETED"]


@router.get("", response_model=CustomerPage)
async def list_customers(
    session: SessionDep,
    principal: Reader,
    settings: SettingsDep,
    email: str | None = None,
    phoneNumber: str | None = None,
    status: Status | None = None,
    membershipTier: Annotated[str | None, Query(max_length=100)] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CustomerPage:
    search = CustomerSearch(
        email=email, phone_number=phoneNumber, status=status, tier=membershipTier, tag=tag, q=q
    )
    repo = ProfileRepository.for_tenant(session, principal.tenant_id)
    region = settings.policy_for(principal.tenant_id).default_region
    return await search_customers(repo, region, search, cursor=cursor, limit=limit)


@router.get("/{profile_id}", responses=error_responses(404), response_model=Customer)
async def get_customer(profile_id: ProfileId, session: SessionDep, principal: Reader) -> Customer:
    return await service.get_customer(session, principal.tenant_id, profile_id.lower())


@router.patch("/{profile_id}", responses=error_responses(404, 409), response_model=Customer)
async def patch_customer(
    profile_id: ProfileId, patch: CustomerPatch, session: SessionDep, principal: Editor
) -> Customer:
    return await service.patch_customer(
        session, principal.tenant_id, profile_id.lower(), patch, principal.subject
    )
