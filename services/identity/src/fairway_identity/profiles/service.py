"""Reading and staff-editing profiles."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import NotFound, Unprocessable
from fairway_events import new_event_id, outbox, utcnow
from fairway_events.contracts.identity import Attributes, Consent, Identities, ProfileUpdated
from fairway_identity.eventlog.events import LogRow, envelope
from fairway_identity.eventlog.repository import EventLogRepository
from fairway_identity.keys import ORDER
from fairway_identity.profiles.records import LiveProfile, ProfileRecord
from fairway_identity.profiles.repository import ProfileRepository
from fairway_identity.profiles.schemas import AttributeSource, Customer, CustomerPatch
from fairway_identity.profiles.state import ProfileState, apply_staff, diff, stamp

STAFF_EDIT = "staff.profile.edited"


def to_customer(row: ProfileRecord, requested_id: str | None = None) -> Customer:
    state = ProfileState.loads(row.state, row.identities)
    consent = row.consent or {}
    return Customer(
        id=row.id,
        status=row.status,
        lifecycleStage=row.lifecycle_stage,
        identities=Identities(**{t: row.identities.get(t, []) for t in ORDER}),
        attributes=Attributes(**row.attributes) if row.attributes else Attributes(),
        attributeSources={k: AttributeSource(**v) for k, v in state.attribute_sources().items()},
        consent=Consent(**consent.get("flags", {})),
        consentChangedAt=consent.get("changedAt", {}),
        tags=list(row.tags),
        mergedInto=row.merged_into,
        requestedId=requested_id if requested_id and requested_id != row.id else None,
        revision=row.revision,
        createdAt=row.created_at,
        updatedAt=row.updated_at,
    )


async def live_root(repo: ProfileRepository, profile_id: str) -> str:
    """The id a (possibly merged) profile id answers with; 404 when unknown or erased."""
    root = await repo.root_of(profile_id)
    if root is None:
        raise NotFound(f"no customer {profile_id}")
    if root[1] == "DELETED":
        raise NotFound(f"customer {profile_id} was erased")
    return root[0]


async def get_customer(session: AsyncSession, tenant_id: str, profile_id: str) -> Customer:
    repo = ProfileRepository.for_tenant(session, tenant_id)
    root = await live_root(repo, profile_id)
    row = await repo.read(root)
    assert row is not None
    return to_customer(row, requested_id=profile_id)


async def lock_one(session: AsyncSession, tenant_id: str, profile_id: str) -> LiveProfile:
    repo = ProfileRepository.for_tenant(session, tenant_id)
    root = await live_root(repo, profile_id)
    locked = await repo.lock_profiles([root])
    p = locked.get(root)
    if p is None or p.structural:
        # merged or erased between the lookup and the lock
        raise NotFound(f"customer {profile_id} changed while being edited; try again")
    return p


async def patch_customer(
    session: AsyncSession, tenant_id: str, profile_id: str, patch: CustomerPatch, actor: str
) -> Customer:
    changes = patch.model_dump(exclude_unset=True, mode="json")
    if not changes:
        raise Unprocessable("send at least one field to change", field="body")
    p = await lock_one(session, tenant_id, profile_id)
    now = utcnow()
    eid = new_event_id()
    before = p.state.view()
    apply_staff(p.state, changes, stamp(now), eid)
    changed, _ = diff(before, p.state.view())
    p.dirty = True
    await ProfileRepository.for_tenant(session, tenant_id).save_profiles([p])
    # Logged with the upstream events, so an unmerge replays staff edits too.
    await EventLogRepository.for_tenant(session, tenant_id).append_log(
        [
            LogRow(
                tenant_id,
                eid,
                "staff",
                STAFF_EDIT,
                now,
                p.id,
                "APPLIED",
                {"by": actor, "fields": sorted(changes)},
                json.dumps({"changes": changes}),
                kind="staff",
            )
        ]
    )
    if changed:
        await outbox.append(
            session, envelope(ProfileUpdated(profileId=p.id, changes=changed), tenant_id, p.id, now)
        )
    return await get_customer(session, tenant_id, p.id)
