"""Applies crm.identity, crm.timeline, crm.scoring and crm.segmentation events to the read model; and the
snapshots and tombstones of the same owners' state topics, which bootstrap it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from fairway_events import Envelope
from fairway_events.contracts.identity import (
    ProfileConsentChanged,
    ProfileCreated,
    ProfileErased,
    ProfileIdentityLinked,
    ProfileMerged,
    ProfileSnapshot,
    ProfileUnmerged,
    ProfileUpdated,
)
from fairway_events.contracts.scoring import ScoreUpdated
from fairway_events.contracts.segmentation import SegmentMemberEntered, SegmentMemberExited
from fairway_events.contracts.state import MembershipState, ProfileState, ScoresState, StateTombstone
from fairway_events.contracts.timeline import TimelineCountersUpdated
from fairway_journeys.readmodel.fields import CATALOGUE
from fairway_journeys.readmodel.repository import MemberRepository
from fairway_schemas.identity_keys import canonical

HANDLED = {"profile.created", "profile.updated", "profile.identity_linked", "profile.consent_changed",
           "profile.merged", "profile.unmerged", "profile.erased", "timeline.counters_updated", "score.updated",
           "segment.member_entered", "segment.member_exited"}
STATE_TOPICS = ["crm.identity.state", "crm.timeline.state", "crm.scoring.state", "crm.segmentation.state"]
# Live profile events raise the version a profile snapshot must beat (counters and scores are whole each time).
LIVE_STATE = {"crm.identity": "crm.identity.state"}
_KEEP = set(CATALOGUE) | {"dateOfBirth"}
_CONSENT = ("emailOptIn", "smsOptIn", "pushOptIn", "whatsappOptIn")


def _keys(snapshot: ProfileSnapshot) -> list[tuple[str, str]]:
    out = []
    for key_type, values in snapshot.identities.model_dump().items():
        for v in values:
            c = canonical(key_type, v)
            if c is not None:
                out.append((key_type, c))
    return out


def snapshot_fields(p: ProfileSnapshot) -> dict[str, Any]:
    f: dict[str, Any] = {k: v for k, v in p.attributes.model_dump().items() if k in _KEEP}
    f.update({k: getattr(p.consent, k) for k in _CONSENT})
    f.update(status=p.status, lifecycleStage=p.lifecycleStage, tags=list(p.tags))
    return f


def change_fields(changes: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in changes.items() if k in _KEEP}


async def apply(repo: MemberRepository, env: Envelope, now: datetime) -> None:
    p = env.payload
    if isinstance(p, ProfileState | MembershipState | ScoresState | StateTombstone):
        await apply_state(repo, p, now)
    elif isinstance(p, ProfileCreated):
        await repo.merge([(p.profile.profileId, p.profile.status, snapshot_fields(p.profile))], now)
        await repo.link_keys(p.profile.profileId, _keys(p.profile))
    elif isinstance(p, ProfileUpdated):
        fields = change_fields(p.changes)
        status = p.changes.get("status") if isinstance(p.changes.get("status"), str) else None
        if fields or status:
            await repo.merge([(p.profileId, status, fields)], now)
    elif isinstance(p, ProfileIdentityLinked):
        c = canonical(p.keyType, p.value)
        if c is not None:
            await repo.link_keys(p.profileId, [(p.keyType, c)])
    elif isinstance(p, ProfileConsentChanged):
        await repo.merge([(p.profileId, None, {k: getattr(p.consent, k) for k in _CONSENT})], now)
    elif isinstance(p, ProfileMerged):
        if p.loserId != p.winnerId:
            await repo.move_keys(p.loserId, p.winnerId)
            await repo.delete(p.loserId)
        await repo.merge([(p.winnerId, p.winner.status, snapshot_fields(p.winner))], now)
        await repo.link_keys(p.winnerId, _keys(p.winner))
    elif isinstance(p, ProfileUnmerged):
        for snap in (p.profile, p.restored):
            await repo.merge([(snap.profileId, snap.status, snapshot_fields(snap))], now)
            await repo.link_keys(snap.profileId, _keys(snap))
    elif isinstance(p, ProfileErased):
        await repo.delete(p.profileId)
    elif isinstance(p, TimelineCountersUpdated):
        await repo.merge([(p.profileId, None, {k: v for k, v in p.model_dump().items() if k in CATALOGUE})], now)
    elif isinstance(p, ScoreUpdated):
        await repo.merge([(p.profileId, None, {k: v for k, v in p.model_dump().items() if k in CATALOGUE})], now)
    elif isinstance(p, SegmentMemberEntered):
        await repo.enter_segment(p.segmentId, p.profileId, p.at)
    elif isinstance(p, SegmentMemberExited):
        await repo.leave_segment(p.segmentId, p.profileId)


async def apply_state(repo: MemberRepository, p: ProfileState | MembershipState | ScoresState | StateTombstone,
                      now: datetime) -> None:
    """A snapshot or tombstone of a state topic (counters' snapshots are timeline.counters_updated's fields)."""
    if isinstance(p, ProfileState):
        pid = p.profile.profileId
        if p.mergedInto is None:
            await repo.merge([(pid, p.profile.status, snapshot_fields(p.profile))], now)
            await repo.link_keys(pid, _keys(p.profile))
        else:
            await repo.move_keys(pid, p.mergedInto)
            await repo.delete(pid)
    elif isinstance(p, ScoresState):
        await repo.merge([(p.profileId, None, {k: v for k, v in p.model_dump().items() if k in CATALOGUE})], now)
    elif isinstance(p, MembershipState):
        await repo.enter_segment(p.segmentId, p.profileId, p.since)
    elif p.topic == "crm.identity.state":  # identity's tombstone: an erasure
        await repo.delete(p.key)
    elif p.topic == "crm.segmentation.state":  # the member left ("segment id:profile id")
        segment_id, _, profile_id = p.key.partition(":")
        await repo.leave_segment(segment_id, profile_id)
