"""Erasure (GDPR/POPIA right to be forgotten) and export (portability)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import NotFound
from fairway_events import outbox, utcnow
from fairway_events.contracts.identity import ProfileErased
from fairway_identity.eventlog.events import envelope
from fairway_identity.eventlog.repository import EventLogRepository
from fairway_identity.merge_records.repository import MergeRepository
from fairway_identity.privacy.repository import PrivacyRepository
from fairway_identity.profiles.repository import ProfileRepository
from fairway_identity.profiles.service import live_root, to_customer
from fairway_identity.profiles.state import ProfileState


async def erase(session: AsyncSession, tenant_id: str, profile_id: str) -> dict[str, Any]:
    """Erase the person: the profile and every profile merged into it. Idempotent."""
    profiles = ProfileRepository.for_tenant(session, tenant_id)
    root = await profiles.root_of(profile_id)
    if root is None:
        raise NotFound(f"no customer {profile_id}")
    tree = await profiles.tree(root[0])
    if root[1] == "DELETED":
        row = await profiles.read(root[0])
        return {"profileId": root[0], "erasedIds": tree, "erasedAt": row.erased_at if row else None}
    await profiles.lock_profiles([root[0]])
    now = utcnow()
    await PrivacyRepository.for_tenant(session, tenant_id).erase(tree, now)
    await outbox.append(
        session, *[envelope(ProfileErased(profileId=i, erasedAt=now), tenant_id, i, now) for i in tree]
    )
    return {"profileId": root[0], "erasedIds": tree, "erasedAt": now}


async def export(session: AsyncSession, tenant_id: str, profile_id: str) -> dict[str, Any]:
    """Everything identity holds about the person, as JSON."""
    profiles = ProfileRepository.for_tenant(session, tenant_id)
    root = await live_root(profiles, profile_id)
    row = await profiles.read(root)
    assert row is not None
    tree = await profiles.tree(root)
    state = ProfileState.loads(row.state, row.identities)
    events = await EventLogRepository.for_tenant(session, tenant_id).events_of(tree)
    merges = MergeRepository.for_tenant(session, tenant_id)
    return {
        "exportedAt": utcnow(),
        "profile": to_customer(row, requested_id=profile_id).model_dump(mode="json"),
        "mergedProfileIds": [i for i in tree if i != root],
        "identities": [
            {
                "keyType": k.key_type,
                "value": k.value,
                "linkedAt": k.linked_at,
                "sourceEventId": k.source_event_id,
            }
            for k in await profiles.key_rows(root)
        ],
        "observations": [
            {"attribute": attr, "source": src, "value": v, "at": at, "eventId": eid}
            for attr, per in sorted(state.obs.items())
            for src, (v, at, eid) in per.items()
        ],
        "consent": [
            {"flag": f, "value": v, "at": at, "eventId": eid} for f, (v, at, eid) in state.consent.items()
        ],
        "tags": [{"tag": t, "present": present, "at": at} for t, (present, at, _) in state.tags.items()],
        "events": [
            {
                "eventId": e.event_id,
                "type": e.event_type,
                "source": e.source,
                "kind": e.kind,
                "profileId": e.profile_id,
                "occurredAt": e.occurred_at,
                "appliedAt": e.applied_at,
                "status": e.status,
                "resolution": e.detail,
                "event": json.loads(e.body) if e.body else None,
            }
            for e in events
        ],
        "merges": await merges.history(tree),
        "mergeCandidates": await merges.candidates_of(tree),
    }
