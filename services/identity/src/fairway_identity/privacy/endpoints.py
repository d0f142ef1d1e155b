"""DELETE /api/v1/customers/{id} (erasure) and GET /api/v1/customers/{id}/export (portability)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder

from fairway_chassis import SessionDep, error_responses
from fairway_identity.deps import PrivacyOfficer
from fairway_identity.privacy import service
from fairway_identity.privacy.schemas import Erasure, Export
from fairway_identity.profiles.endpoints import ProfileId

router = APIRouter(prefix="/api/v1/customers", tags=["privacy"])


@router.delete("/{profile_id}", responses=error_responses(404), response_model=Erasure)
async def erase(profile_id: ProfileId, session: SessionDep, principal: PrivacyOfficer) -> Erasure:
    """Erase the person's personal data; a tombstone without PII stays, and `profile.erased` tells every
    service to purge its copy."""
    return Erasure(**await service.erase(session, principal.tenant_id, profile_id.lower()))


@router.get("/{profile_id}/export", responses=error_responses(404), response_model=Export)
async def export(profile_id: ProfileId, session: SessionDep, principal: PrivacyOfficer) -> Export:
    # jsonable_encoder first: the export holds the raw JSON of every event, which the model passes through
    return Export.model_validate(jsonable_encoder(await service.export(session, principal.tenant_id, profile_id.lower())))
