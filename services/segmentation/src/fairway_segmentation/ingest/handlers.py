"""The consumer (above both concepts it feeds): crm.identity, crm.timeline and crm.scoring events update the read
model's `profiles`; every person whose row changed is re-evaluated against the tenant's active dynamic segments
in the same transaction. The state consumer sends the snapshots of the same owners' state topics (profiles,
counters, scores) and identity's erasure tombstones through the same code, so a new read model bootstraps from them.

One Kafka batch is one transaction (the chassis' unit of work): inbox claim, row updates, membership changes
and their outbox events commit together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import Clock
from fairway_events import Delivery, Envelope
from fairway_events.consumer import BatchHandler
from fairway_events.contracts.identity import (
    ProfileConsentChanged,
    ProfileCreated,
    ProfileErased,
    ProfileIdentityLinked,
    ProfileMerged,
    ProfileUnmerged,
    ProfileUpdated,
)
from fairway_events.contracts.scoring import ScoreUpdated
from fairway_events.contracts.state import ProfileState, ScoresState, StateTombstone
from fairway_events.contracts.timeline import TimelineCountersUpdated
from fairway_schemas.criteria import Group
from fairway_schemas.criteria_eval import InvalidCriteria, Predicate
from fairway_segmentation.readmodel import mapping
from fairway_segmentation.readmodel.fields import CATALOGUE, as_profile, contact, is_eligible
from fairway_segmentation.readmodel.repository import ProfileRepository
from fairway_segmentation.segments.engine import ChangeSet, SegmentRef
from fairway_segmentation.segments.member_repository import MembershipRepository
from fairway_segmentation.segments.repository import Segment, SegmentRepository

log = structlog.get_logger("fairway.segmentation.readmodel")

TOPICS = ["crm.identity", "crm.timeline", "crm.scoring"]
STATE_TOPICS = ["crm.identity.state", "crm.timeline.state", "crm.scoring.state"]
# Live profile events raise the version a profile snapshot must beat (counters and scores carry their own as-of).
LIVE_STATE = {"crm.identity": "crm.identity.state"}
HANDLED = {
    "profile.created",
    "profile.updated",
    "profile.identity_linked",
    "profile.consent_changed",
    "profile.merged",
    "profile.unmerged",
    "profile.erased",
    "timeline.counters_updated",
    "score.updated",
}


class PredicateCache:
    """Parsed and checked criteria per segment version, so a batch does not re-parse every segment."""

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self._items: dict[tuple[str, str, Any], Predicate | None] = {}

    def get(self, tenant_id: str, row: Segment) -> Predicate | None:
        key = (tenant_id, row.segment_id, row.updated_at)
        if key not in self._items:
            if len(self._items) >= self.size:
                self._items.clear()
            try:
                self._items[key] = Predicate(Group.model_validate(row.criteria), CATALOGUE)
            except (InvalidCriteria, ValueError) as exc:
                # Saved criteria the catalogue no longer accepts: leave the segment as it is, loudly.
                log.error(
                    "segment criteria no longer valid; not evaluated",
                    segment_id=row.segment_id,
                    error=str(exc),
                )
                self._items[key] = None
        return self._items[key]


class PendingWrites:
    """Row writes of a batch held back and sent together, with the effect of sending them one by one.

    Snapshot/attribute/consent columns, counters and scores are disjoint sets of columns, so they commute: a
    profile's plain writes merge (later values win), and of its counters (or scores) only the latest `as_of`
    can win (the last of equal ones, as `upsert_if_newer` applied in order would leave). Any other statement
    of the batch (merges, erasures, links) sends what is held first, so order is kept."""

    def __init__(self, profiles: ProfileRepository) -> None:
        self.profiles = profiles
        self.plain: dict[str, dict[str, Any]] = {}
        self.newer: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)  # as-of column -> profile -> values

    def set(self, profile_id: str, values: dict[str, Any]) -> None:
        self.plain.setdefault(profile_id, {}).update(values)

    def set_if_newer(self, profile_id: str, values: dict[str, Any], as_of_column: str) -> None:
        held = self.newer[as_of_column].get(profile_id)
        if held is None or values[as_of_column] >= held[as_of_column]:
            self.newer[as_of_column][profile_id] = values

    async def flush(self) -> None:
        plain, newer = self.plain, self.newer
        self.plain, self.newer = {}, defaultdict(dict)
        if plain:
            await self.profiles.upsert_many(plain)
        for column, rows in newer.items():
            await self.profiles.upsert_many(rows, column)


def _mentioned(env: Envelope) -> list[str]:
    p = env.payload
    if isinstance(p, ProfileCreated):
        return [p.profile.profileId]
    if isinstance(p, ProfileMerged):
        return [p.winnerId, p.loserId]
    if isinstance(p, ProfileUnmerged):
        return [p.profileId, p.restoredId]
    if isinstance(p, ProfileState):
        return [p.profile.profileId]
    if isinstance(p, StateTombstone):
        return [p.key]
    return [p.profileId]  # type: ignore[attr-defined]


class TenantBatch:
    """The events of one tenant in one batch, applied in order, then evaluated once per person."""

    def __init__(
        self, session: AsyncSession, tenant_id: str, now: datetime, predicates: PredicateCache
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.now = now
        self.predicates = predicates
        self.profiles = ProfileRepository.for_tenant(session, tenant_id)
        self.members = MembershipRepository.for_tenant(session, tenant_id)
        self.segments = SegmentRepository.for_tenant(session, tenant_id)
        self.changes = ChangeSet(session, tenant_id, now)
        self.writes = PendingWrites(self.profiles)
        self.touched: set[str] = set()
        self.tombstones: dict[str, str] = {}
        self.segs: dict[str, Segment] = {}

    async def run(self, envelopes: list[Envelope]) -> None:
        ids = {i for e in envelopes for i in _mentioned(e)}
        self.tombstones = await self.profiles.tombstones(ids)
        before = await self.profiles.load(ids)
        # Shared with every other consumer transaction; exclusive against creating or deleting a segment, and
        # against a refresh or an edit of one. Read again once locked: criteria and flags are then current.
        await self.segments.lock_tenant(shared=True)
        segment_ids = [s.segment_id for s in await self.segments.all()]
        await self.segments.lock_shared(segment_ids)
        self.segs = {s.segment_id: s for s in await self.segments.all()}
        for env in envelopes:
            await self.apply(env)
        await self.writes.flush()
        await self.evaluate(before)
        await self.changes.flush()

    def _dead(self, profile_id: str) -> bool:
        return profile_id in self.tombstones

    async def apply(self, env: Envelope) -> None:
        p = env.payload
        if isinstance(p, ProfileUnmerged):
            await self.writes.flush()
            await self.profiles.clear_merge_tombstone(p.restoredId)
            if self.tombstones.get(p.restoredId) == "merged":
                del self.tombstones[p.restoredId]
            for snap in (p.profile, p.restored):
                if not self._dead(snap.profileId):
                    await self.profiles.upsert(snap.profileId, mapping.snapshot_values(snap))
                    self.touched.add(snap.profileId)
            return
        if isinstance(p, ProfileState):
            await self.snapshot(p, env.occurred_at)
            return
        if any(self._dead(i) for i in _mentioned(env)[:1]):
            return  # a late event about someone merged away or erased: nothing to bring back
        if isinstance(p, ProfileCreated):
            self.writes.set(p.profile.profileId, mapping.snapshot_values(p.profile))
            self.touched.add(p.profile.profileId)
        elif isinstance(p, ProfileUpdated):
            values = mapping.change_values(p.changes)
            if values:
                self.writes.set(p.profileId, values)
                self.touched.add(p.profileId)
        elif isinstance(p, ProfileIdentityLinked):
            await self.writes.flush()
            await self.profiles.link_identity(p.profileId, p.keyType, p.value)
            self.touched.add(p.profileId)
        elif isinstance(p, ProfileConsentChanged):
            self.writes.set(p.profileId, mapping.consent_values(p.consent))
            self.touched.add(p.profileId)
        elif isinstance(p, TimelineCountersUpdated):
            self.writes.set_if_newer(p.profileId, mapping.counter_values(p), "counters_as_of")
            self.touched.add(p.profileId)
        elif isinstance(p, ScoreUpdated):
            self.writes.set_if_newer(p.profileId, mapping.score_values(p, env.occurred_at), "scores_as_of")
            self.touched.add(p.profileId)
        elif isinstance(p, ScoresState):
            self.writes.set_if_newer(p.profileId, mapping.score_values(p, p.updatedAt), "scores_as_of")
            self.touched.add(p.profileId)
        elif isinstance(p, StateTombstone):
            if p.topic == "crm.identity.state":  # identity's only tombstone: an erasure
                await self.writes.flush()
                await self.erase(p.key, env.occurred_at)
            # (timeline's and ml-scoring's go with the profile, which identity's tombstone removes)
        elif isinstance(p, ProfileMerged):
            await self.writes.flush()
            await self.merge(p, env.occurred_at)
        elif isinstance(p, ProfileErased):
            await self.writes.flush()
            await self.erase(p.profileId, p.erasedAt)

    async def snapshot(self, p: ProfileState, at: datetime) -> None:
        """A profile as identity holds it now (it is newer than what this read model applied: StateReader)."""
        pid = p.profile.profileId
        if self.tombstones.get(pid) == "erased":
            return
        if p.mergedInto is not None:
            if not self._dead(pid):
                await self.writes.flush()
                await self.retire(pid, p.mergedInto, at)  # the winner's counters come with its own snapshots
            return
        if self.tombstones.get(pid) == "merged":  # unmerged since this read model saw it merged
            await self.writes.flush()
            await self.profiles.clear_merge_tombstone(pid)
            del self.tombstones[pid]
        self.writes.set(pid, mapping.snapshot_values(p.profile))
        self.touched.add(pid)

    async def merge(self, p: ProfileMerged, at: datetime) -> None:
        loser = None
        if p.loserId != p.winnerId and not self._dead(p.loserId):
            loser = await self.retire(p.loserId, p.winnerId, at)
        await self.profiles.upsert(p.winnerId, mapping.snapshot_values(p.winner))
        if loser is not None:
            await self.profiles.fold_in_activity(p.winnerId, loser, at)
        self.touched.add(p.winnerId)

    async def retire(self, loser_id: str, winner_id: str, at: datetime) -> RowMapping | None:
        """Remove a merged-away profile (tombstoned, out of every segment); its row as it was."""
        loser = await self.profiles.delete(loser_id)
        await self.profiles.tombstone(loser_id, "merged", at, merged_into=winner_id)
        self.tombstones[loser_id] = "merged"
        self.touched.discard(loser_id)
        for segment_id, _source in await self.members.remove_everywhere(loser_id):
            if segment_id not in self.segs:
                continue  # (cannot happen: a segment's deletion removes its members)
            seg = SegmentRef.of(self.segs[segment_id])
            self.changes.note_exits(seg, [loser_id], reason="merged")
            if seg.type == "STATIC":  # an explicit member stays one under the surviving id
                await self.changes.enter(seg, [winner_id], reason="merged", source="merged")
        return loser

    async def erase(self, profile_id: str, at: datetime) -> None:
        await self.profiles.delete(profile_id)
        await self.profiles.tombstone(profile_id, "erased", at)
        self.tombstones[profile_id] = "erased"
        self.touched.discard(profile_id)
        for segment_id, _source in await self.members.remove_everywhere(profile_id):
            if segment_id in self.segs:
                self.changes.note_exits(SegmentRef.of(self.segs[segment_id]), [profile_id], reason="erased")

    async def evaluate(self, before: Mapping[str, Mapping[Any, Any]]) -> None:
        if not self.touched:
            return
        after = await self.profiles.load(self.touched)
        memberships = await self.members.of_profiles(after)
        dynamic = [
            (SegmentRef.of(s), self.predicates.get(self.tenant_id, s))
            for s in self.segs.values()
            if s.type == "DYNAMIC" and s.active
        ]
        enter: dict[SegmentRef, list[str]] = defaultdict(list)
        leave: dict[SegmentRef, list[str]] = defaultdict(list)
        for pid, row in sorted(after.items()):
            old = before.get(pid)
            if old is not None and contact(old) != contact(row):
                for sid, member in memberships:
                    if member == pid and sid in self.segs:
                        self.changes.contact_changed(SegmentRef.of(self.segs[sid]), pid)
            eligible = is_eligible(row)
            profile = as_profile(row)
            for seg, predicate in dynamic:
                if predicate is None:
                    continue
                should = eligible and predicate(profile, self.now)
                is_member = (seg.segment_id, pid) in memberships
                if should and not is_member:
                    enter[seg].append(pid)
                elif is_member and not should:
                    leave[seg].append(pid)
        for seg, pids in enter.items():
            await self.changes.enter(seg, pids, reason="rule", source="rule")
        for seg, pids in leave.items():
            await self.changes.exit(seg, pids, reason="rule")


def make_handler(clock: Clock, predicates: PredicateCache | None = None) -> BatchHandler:
    cache = predicates or PredicateCache()

    async def handle(session: AsyncSession, deliveries: list[Delivery]) -> None:
        by_tenant: dict[str, list[Envelope]] = defaultdict(list)
        for d in deliveries:
            by_tenant[d.envelope.tenant_id].append(d.envelope)
        now = clock.now()
        for tenant_id in sorted(by_tenant):
            await TenantBatch(session, tenant_id, now, cache).run(by_tenant[tenant_id])

    return handle
