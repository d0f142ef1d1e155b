"""Membership changes and the events they cause, shared by the consumer, the HTTP API and the maintenance loop.

Every change lands in the same transaction as its events: segment.member_entered / exited on crm.segmentation
(keyed by segment id) and, for segments synced to Messaging, segment.sync.delta on crm.messaging.segment_sync.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_events import Envelope, outbox, registry
from fairway_events.contracts.messaging_out import Recipient, SegmentSyncDelta
from fairway_events.contracts.segmentation import SegmentMemberEntered, SegmentMemberExited
from fairway_schemas.criteria import Group
from fairway_schemas.criteria_sql import compile_criteria
from fairway_segmentation.readmodel.fields import CATALOGUE, COLUMNS
from fairway_segmentation.segments.member_repository import (
    SOURCE,
    SYNC_CHUNK,
    Contact,
    Diff,
    MembershipRepository,
)
from fairway_segmentation.segments.repository import Segment, SegmentRepository

log = structlog.get_logger("fairway.segmentation")


@dataclass(frozen=True)
class SegmentRef:
    segment_id: str
    name: str
    type: str
    sync_to_messaging: bool

    @classmethod
    def of(cls, seg: Segment) -> SegmentRef:
        return cls(seg.segment_id, seg.name, seg.type, seg.sync_to_messaging)


def membership_event(
    tenant_id: str, seg: SegmentRef, profile_id: str, *, entered: bool, at: datetime, reason: str
) -> Envelope:
    model = SegmentMemberEntered if entered else SegmentMemberExited
    return registry.envelope(
        model(segmentId=seg.segment_id, segmentName=seg.name, profileId=profile_id, at=at, reason=reason),
        tenant_id=tenant_id,
        aggregate_id=seg.segment_id,
        source=SOURCE,
        occurred_at=at,
    )


def sync_deltas(
    tenant_id: str,
    seg: SegmentRef,
    added: list[Recipient],
    removed: list[str],
    *,
    at: datetime,
    full_resync: bool = False,
) -> list[Envelope]:
    """Deltas of at most SYNC_CHUNK people each; in a full resync only the first says fullResync."""
    out: list[Envelope] = []
    items: list[tuple[str, Any]] = [("a", r) for r in added] + [("r", p) for p in removed]
    for i in range(0, max(len(items), 1), SYNC_CHUNK):
        chunk = items[i : i + SYNC_CHUNK]
        out.append(
            registry.envelope(
                SegmentSyncDelta(
                    segmentId=seg.segment_id,
                    segmentName=seg.name,
                    added=[x for k, x in chunk if k == "a"],
                    removed=[x for k, x in chunk if k == "r"],
                    fullResync=full_resync and i == 0,
                ),
                tenant_id=tenant_id,
                aggregate_id=seg.segment_id,
                source=SOURCE,
                occurred_at=at,
            )
        )
    return out


@dataclass
class _SegmentChanges:
    seg: SegmentRef
    entered: dict[str, str] = field(default_factory=dict)  # profile id -> reason
    exited: dict[str, str] = field(default_factory=dict)
    contact_changed: set[str] = field(default_factory=set)


class ChangeSet:
    """One transaction's person-by-person membership changes: rows now, events and counts at `flush()`."""

    def __init__(self, session: AsyncSession, tenant_id: str, at: datetime) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.at = at
        self.members = MembershipRepository.for_tenant(session, tenant_id)
        self.segments = SegmentRepository.for_tenant(session, tenant_id)
        self._by_segment: dict[str, _SegmentChanges] = {}

    def _of(self, seg: SegmentRef) -> _SegmentChanges:
        return self._by_segment.setdefault(seg.segment_id, _SegmentChanges(seg))

    async def enter(
        self, seg: SegmentRef, profile_ids: Iterable[str], *, reason: str, source: str
    ) -> list[str]:
        added = await self.members.add(seg.segment_id, list(profile_ids), source, self.at)
        ch = self._of(seg)
        for p in added:
            if ch.exited.pop(p, None) is None:  # out and back in within one transaction: no change at all
                ch.entered[p] = reason
        return added

    async def exit(self, seg: SegmentRef, profile_ids: Iterable[str], *, reason: str) -> list[str]:
        removed = await self.members.remove(seg.segment_id, list(profile_ids))
        self.note_exits(seg, removed, reason=reason)
        return removed

    def note_exits(self, seg: SegmentRef, profile_ids: Iterable[str], *, reason: str) -> None:
        """Exits whose rows are already gone (e.g. removed everywhere at once)."""
        ch = self._of(seg)
        for p in profile_ids:
            if ch.entered.pop(p, None) is None:
                ch.exited[p] = reason

    def contact_changed(self, seg: SegmentRef, profile_id: str) -> None:
        if seg.sync_to_messaging:
            self._of(seg).contact_changed.add(profile_id)

    @property
    def counts(self) -> tuple[int, int]:
        return (
            sum(len(c.entered) for c in self._by_segment.values()),
            sum(len(c.exited) for c in self._by_segment.values()),
        )

    async def flush(self) -> None:
        events: list[Envelope] = []
        deltas: dict[str, int] = {}
        synced: list[str] = []
        want_recipients = {
            p
            for c in self._by_segment.values()
            if c.seg.sync_to_messaging
            for p in (*c.entered, *c.contact_changed)
        }
        recipients = await self.members.recipients(want_recipients)
        for sid, ch in sorted(self._by_segment.items()):
            seg = ch.seg
            for p, reason in sorted(ch.entered.items()):
                events.append(
                    membership_event(self.tenant_id, seg, p, entered=True, at=self.at, reason=reason)
                )
            for p, reason in sorted(ch.exited.items()):
                events.append(
                    membership_event(self.tenant_id, seg, p, entered=False, at=self.at, reason=reason)
                )
            if ch.entered or ch.exited:
                deltas[sid] = len(ch.entered) - len(ch.exited)
            upserts = sorted((set(ch.entered) | ch.contact_changed) - set(ch.exited))
            if seg.sync_to_messaging and (upserts or ch.exited):
                added = [_recipient(p, recipients.get(p)) for p in upserts]
                events += sync_deltas(self.tenant_id, seg, added, sorted(ch.exited), at=self.at)
                synced.append(sid)
        await outbox.append_many(self.session, events)
        await self.segments.adjust_counts(deltas, synced_at=self.at, synced=synced)
        self._by_segment.clear()


def _recipient(profile_id: str, contact: Contact | None) -> Recipient:
    if contact is None:
        return Recipient(profileId=profile_id)
    return Recipient(
        profileId=profile_id,
        email=contact.email,
        phoneNumber=contact.phone_number,
        messagingContactId=contact.messaging_contact_id,
    )


# -- whole segments --------------------------------------------------------------------------------------------
async def refresh(
    session: AsyncSession,
    tenant_id: str,
    segment_id: str,
    *,
    now: datetime,
    reason: str,
    locked: bool = False,
) -> Diff | None:
    """Re-evaluate a dynamic segment over the tenant's whole read model and publish who entered and left.

    Holds the segment's advisory lock, so incremental updates of the same segment wait and then see the result.
    Returns None when the segment is gone or not dynamic.
    """
    segments = SegmentRepository.for_tenant(session, tenant_id)
    members = MembershipRepository.for_tenant(session, tenant_id)
    if not locked:
        await segments.lock(segment_id)
    row = await segments.get(segment_id, for_update=True)
    if row is None or row.type != "DYNAMIC":
        return None
    seg = SegmentRef.of(row)
    where = compile_criteria(Group.model_validate(row.criteria), COLUMNS, now=now, catalogue=CATALOGUE)
    t0 = time.perf_counter()
    diff = await members.diff(segment_id, where, now)
    t1 = time.perf_counter()
    values: dict[str, Any] = {"member_count": diff.size, "last_refreshed_at": now, "time_checked_at": now}
    if diff.entered or diff.exited:
        await members.write_membership_events(segment_id, seg.name, now, reason)
        if seg.sync_to_messaging:
            await members.write_sync_deltas(segment_id, seg.name, now, full_resync=False)
            values["last_synced_at"] = now
    t2 = time.perf_counter()
    log.info(
        "segment evaluated",
        tenant_id=tenant_id,
        segment_id=segment_id,
        reason=reason,
        size=diff.size,
        entered=diff.entered,
        exited=diff.exited,
        diff_seconds=round(t1 - t0, 3),
        events_seconds=round(t2 - t1, 3),
    )
    await segments.update(segment_id, values)
    if reason != "time" or diff.entered or diff.exited:
        await segments.add_history(segment_id, now, diff.size, diff.entered, diff.exited, reason)
    return diff


async def full_resync(
    session: AsyncSession, tenant_id: str, seg: SegmentRef, *, now: datetime, with_members: bool = True
) -> int:
    """Send Messaging the whole member list again: the first delta replaces its list, the rest add to it.
    Without members it empties Messaging's list (sync switched off). Returns the number of deltas."""
    segments = SegmentRepository.for_tenant(session, tenant_id)
    members = MembershipRepository.for_tenant(session, tenant_id)
    await segments.lock(seg.segment_id)
    n = await members.all_entered(seg.segment_id) if with_members else 0
    if n:
        events = await members.write_sync_deltas(seg.segment_id, seg.name, now, full_resync=True)
    else:
        await outbox.append_many(session, sync_deltas(tenant_id, seg, [], [], at=now, full_resync=True))
        events = 1
    await segments.update(seg.segment_id, {"last_synced_at": now})
    return events


async def delete(session: AsyncSession, tenant_id: str, seg: SegmentRef, *, now: datetime) -> int:
    """Every member leaves (reason "deleted"), Messaging's list is emptied, then the segment goes (with its
    size history)."""
    segments = SegmentRepository.for_tenant(session, tenant_id)
    members = MembershipRepository.for_tenant(session, tenant_id)
    await segments.lock(seg.segment_id)
    n = await members.exit_all(seg.segment_id)
    if n:
        await members.write_membership_events(seg.segment_id, seg.name, now, "deleted")
    if seg.sync_to_messaging:
        await outbox.append_many(session, sync_deltas(tenant_id, seg, [], [], at=now, full_resync=True))
    await segments.delete(seg.segment_id)
    return n


def group_by(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for a, b in pairs:
        out[a].add(b)
    return out
