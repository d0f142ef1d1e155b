"""Merging profiles (staff, or an accepted candidate) and undoing merges."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import Conflict, NotFound, Unprocessable
from fairway_events import new_event_id, outbox, utcnow
from fairway_events.contracts.identity import (
    Consent,
    ProfileConsentChanged,
    ProfileMergeCandidate,
    ProfileMerged,
    ProfileUnmerged,
)
from fairway_identity.eventlog.events import envelope
from fairway_identity.eventlog.repository import EventLogRepository
from fairway_identity.merge_records.repository import MergeRepository
from fairway_identity.merging.replay import LoggedEvent, MergeRecord, Replayer
from fairway_identity.profiles.records import LiveProfile
from fairway_identity.profiles.repository import ProfileRepository
from fairway_identity.profiles.state import diff
from fairway_identity.resolution.handlers import reopen_against_winner
from fairway_identity.resolution.repository import ResolutionBatchRepository
from fairway_identity.settings import ResolutionPolicy


async def _lock_pair(
    session: AsyncSession, tenant_id: str, a: str, b: str
) -> tuple[LiveProfile, LiveProfile]:
    locked = await ProfileRepository.for_tenant(session, tenant_id).lock_profiles([a, b])
    pa, pb = locked.get(a), locked.get(b)
    if pa is None or pb is None or pa.tenant_id != tenant_id or pb.tenant_id != tenant_id:
        raise NotFound("profile not found")
    return pa, pb


async def merge(
    session: AsyncSession, tenant_id: str, winner_id: str, loser_id: str, actor: str, reason: str | None
) -> str:
    """Merge `loser_id` into `winner_id` (its current root); returns the winner's id."""
    profiles = ProfileRepository.for_tenant(session, tenant_id)
    win = await profiles.root_of(winner_id)
    if win is None or win[1] == "DELETED":
        raise NotFound(f"no customer {winner_id}")
    lose = await profiles.root_of(loser_id)
    if lose is None:
        raise Unprocessable(f"no customer {loser_id} in this tenant", field="loserId")
    if lose[1] == "DELETED":
        raise Conflict(f"customer {loser_id} was erased")
    if lose[0] != loser_id:
        raise Conflict(f"customer {loser_id} is already merged into {lose[0]}")
    if win[0] == loser_id:
        raise Unprocessable("a profile cannot be merged into itself", field="loserId")
    w, lo = await _lock_pair(session, tenant_id, win[0], loser_id)
    if w.structural or lo.structural:
        raise Conflict("one of the profiles changed while merging; try again")

    seq = await EventLogRepository.for_tenant(session, tenant_id).max_id()
    before = w.state.view()
    w.state.join(lo.state)
    # Staff decided these are one person, whatever was said before.
    w.distinct_from = (w.distinct_from | lo.distinct_from) - {w.id, lo.id}
    lo.structural, lo.merged_into = "MERGED", w.id
    w.dirty = lo.dirty = True
    await profiles.move_keys([(lo.id, w.id)])
    await profiles.save_profiles([w, lo])
    merges = MergeRepository.for_tenant(session, tenant_id)
    await merges.insert_merges(
        [
            {
                "id": new_event_id(),
                "tenant_id": tenant_id,
                "winner_id": w.id,
                "loser_id": lo.id,
                "seq": seq,
                "reason": reason or "merged by staff",
                "evidence": None,
                "actor": actor,
            }
        ]
    )
    now = utcnow()
    events = [
        envelope(
            ProfileMerged(
                winnerId=w.id,
                loserId=lo.id,
                winner=w.state.snapshot(w.id),
                reason=reason or "merged by staff",
            ),
            tenant_id,
            w.id,
            now,
        )
    ]
    _, consent = diff(before, w.state.view())
    if consent:
        events.append(
            envelope(
                ProfileConsentChanged(
                    profileId=w.id,
                    consent=Consent(**w.state.consent_values()),
                    changed=consent,
                    changedAt=now,
                ),
                tenant_id,
                w.id,
                now,
            )
        )
    superseded = await merges.supersede_candidates(w.id, lo.id, actor)
    reopened = reopen_against_winner(tenant_id, w.id, lo.id, superseded)
    if reopened:
        for cid, is_new, c in await merges.upsert_candidates(reopened, [new_event_id() for _ in reopened]):
            if is_new:
                events.append(
                    envelope(
                        ProfileMergeCandidate(
                            candidateId=cid,
                            profileIds=list(c.pair),
                            evidence=c.evidence[:20],
                            sourceEventId=c.source_event_id or None,
                        ),
                        tenant_id,
                        c.pair[0],
                        now,
                    )
                )
    await outbox.append(session, *events)
    return w.id


async def unmerge(
    session: AsyncSession,
    tenant_id: str,
    profile_id: str,
    loser_id: str | None,
    actor: str,
    policy: ResolutionPolicy,
) -> tuple[str, str]:
    """Undo a merge; returns (the profile that kept its events, the restored one)."""
    profiles = ProfileRepository.for_tenant(session, tenant_id)
    merges = MergeRepository.for_tenant(session, tenant_id)
    log = EventLogRepository.for_tenant(session, tenant_id)
    found = await profiles.root_of(profile_id)
    if found is None:
        raise NotFound(f"no customer {profile_id}")
    if found[1] == "DELETED":
        raise Conflict(f"customer {profile_id} was erased; an erased profile cannot be unmerged")
    m: dict[str, Any] | None
    if loser_id:
        m = await merges.active_merge_of(loser_id)
        if m is None:
            raise Unprocessable(f"{loser_id} is not merged into anything", field="loserId")
        if (await profiles.root_of(loser_id) or ("",))[0] != found[0]:
            raise Unprocessable(f"{loser_id} is not merged into {profile_id}", field="loserId")
    else:
        m = await merges.active_merge_of(profile_id)
        if m is None:
            m = await merges.latest_merge_into(found[0])
        if m is None:
            raise Conflict(f"customer {profile_id} has no merge to undo")
    record = MergeRecord(id=m.id, winner=m.winner, loser=m.loser, seq=m.seq)
    root = found[0]

    locked = await profiles.lock_profiles([root, record.loser])
    r, lo = locked.get(root), locked.get(record.loser)
    if r is None or lo is None or r.structural or lo.structural != "MERGED":
        raise Conflict("the profiles changed while unmerging; try again")

    tree = await profiles.tree(root)
    active = [
        MergeRecord(id=x.id, winner=x.winner, loser=x.loser, seq=x.seq)
        for x in await merges.active_merges(tree)
    ]
    parent = {x.loser: x.winner for x in active}
    ancestors, p = set(), record.winner
    while True:
        ancestors.add(p)
        if p == root or p not in parent:
            break
        p = parent[p]
    events = [
        LoggedEvent(
            id=e.id,
            event_id=e.event_id,
            kind=e.kind,
            event_type=e.event_type,
            profile_id=e.profile_id,
            occurred_at=e.occurred_at,
            body=e.body,
            detail=e.detail,
        )
        for e in await log.events_of(tree)
    ]
    blocked = frozenset(policy.blocked_values) | await ResolutionBatchRepository.from_session(session).blocked_tokens(tenant_id)
    replayer = Replayer(
        events=events,
        merges=active,
        policy=policy,
        blocked=blocked,
        excluded=record,
        ancestors=frozenset(ancestors),
    )
    kept, restored = replayer.unmerge(root)

    r.state, lo.state = kept, restored
    lo.structural, lo.merged_into = None, None
    r.distinct_from.add(lo.id)
    lo.distinct_from.add(r.id)
    r.dirty = lo.dirty = True
    await profiles.set_keys(lo.id, restored.keys)
    await profiles.set_keys(r.id, kept.keys)
    # identity_key decides ownership; the replayed order is kept for what both agree on.
    for p in (r, lo):
        owned = [(k.key_type, k.value) for k in await profiles.key_rows(p.id)]
        replayed = [(t, v) for t, vs in p.state.keys.items() for v in vs]
        ordered = [k for k in replayed if k in set(owned)] + [k for k in owned if k not in set(replayed)]
        p.state.keys = {}
        for t, v in ordered:
            p.state.link(t, v)
    await profiles.save_profiles([r, lo])
    await log.retag([e.id for e in replayer.reassigned], lo.id)
    await merges.mark_undone(record.id, actor)
    now = utcnow()
    await outbox.append(
        session,
        envelope(
            ProfileUnmerged(
                profileId=r.id,
                restoredId=lo.id,
                profile=kept.snapshot(r.id),
                restored=restored.snapshot(lo.id),
            ),
            tenant_id,
            r.id,
            now,
        ),
    )
    return r.id, lo.id


async def dismiss_candidate(session: AsyncSession, tenant_id: str, candidate_id: str, actor: str) -> None:
    row = await MergeRepository.for_tenant(session, tenant_id).dismiss(candidate_id, actor)
    if row is None:
        raise NotFound(f"no open merge candidate {candidate_id}")
    # Staff said these are different people: stop proposing them.
    locked = await ProfileRepository.for_tenant(session, tenant_id).lock_profiles(list(row))
    if len(locked) == 2:
        a, b = locked[row[0]], locked[row[1]]
        a.distinct_from.add(b.id)
        b.distinct_from.add(a.id)
        a.dirty = b.dirty = True
        await ProfileRepository.for_tenant(session, tenant_id).save_profiles([a, b])
