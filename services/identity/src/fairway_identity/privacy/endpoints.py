"""DELETE /api/v1/customers/{id} (erasure) and GET /api/v1/customers/{id}/export (portability)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder

from fairway_chassis import SessionDep
from fairway_identity.deps import PrivacyOfficer
from fairway_identity.privacy import service
from fairway_identity.profiles.endpoints import ProfileId

router = APIRouter(prefix="/api/v1/customers", tags=["privacy"])


@router.delete("/{profile_id}")
async def erase(profile_id: ProfileId, session: SessionDep, principal: PrivacyOfficer) -> dict[str, Any]:
    """Erase the person's personal data; a tombstone without PII stays, and `profile.erased` tells every
    service to purge its copy."""
    return jsonable_encoder(await service.erase(session, principal.tenant_id, profile_id.lower()))


@router.get("/{profile_id}/export")
async def export(profile_id: ProfileId, session: SessionDep, principal: PrivacyOfficer) -> dict[str, Any]:
    return jsonable_encoder(await service.export(session, principal.tenant_id, profile_id.lower()))
