"""GET/PATCH /api/v1/customers: list, read, staff edits."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from fairway_chassis import SessionDep, Unprocessable, paginate
from fairway_identity.deps import Editor, Reader, SettingsDep
from fairway_identity.keys import normalize
from fairway_identity.profiles import service
from fairway_identity.profiles.repository import ProfileRepository
from fairway_identity.profiles.schemas import (
    ID_CURSOR,
    Customer,
    CustomerPage,
    CustomerPatch,
)

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])
ProfileId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$", description="profile id (a UUID)")]
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
    tenant = principal.tenant_id
    repo = ProfileRepository.for_tenant(session, tenant)
    region = settings.policy_for(tenant).default_region
    ids: list[str] | None = None
    for field, kind, raw in (("email", "email", email), ("phoneNumber", "phoneNumber", phoneNumber)):
        if raw is None:
            continue
        value, reason = normalize(kind, raw, region)
        if value is None:
            raise Unprocessable(f"{reason}", field=field)
        owner = (await repo.owners([(kind, value)])).get((kind, value))
        found = [owner] if owner else []
        ids = found if ids is None else [i for i in ids if i in found]
    after = ID_CURSOR.decode(cursor)
    statuses = [status] if status else ["ACTIVE", "INACTIVE"]
    if ids == []:
        return CustomerPage(items=[], nextCursor=None)
    rows = await repo.search(
        statuses=statuses,
        profile_ids=ids,
        tier=membershipTier,
        tag=tag,
        q=q,
        after=str(after) if after else None,
        limit=limit + 1,
    )
    page = paginate(rows, limit, ID_CURSOR, key=lambda r: uuid.UUID(r.id))
    return CustomerPage(items=[service.to_customer(r) for r in page.items], nextCursor=page.next_cursor)


@router.get("/{profile_id}", response_model=Customer)
async def get_customer(profile_id: ProfileId, session: SessionDep, principal: Reader) -> Customer:
    return await service.get_customer(session, principal.tenant_id, profile_id.lower())


@router.patch("/{profile_id}", response_model=Customer)
async def patch_customer(
    profile_id: ProfileId, patch: CustomerPatch, session: SessionDep, principal: Editor
) -> Customer:
    return await service.patch_customer(
        session, principal.tenant_id, profile_id.lower(), patch, principal.subject
    )
