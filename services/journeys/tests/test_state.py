"""The read model bootstraps from the state topics (journeys.state): profiles with their consent, counters, scores
and segment memberships, without a trigger firing on a snapshot; an erasure tombstone ends the person's runs and
removes them from the read model."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from harness import fairway_event, member
from samples import lapsed

from fairway_events import Delivery, Envelope, new_event_id, registry
from fairway_events.contracts.segmentation import SegmentMemberEntered
from fairway_events.contracts.state import CountersState, MembershipState, ProfileState, ScoresState
from fairway_events.state_readers import StateReader
from fairway_journeys.triggers.handlers import make_handler

T = "stonehaven"
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _profile(pid: str) -> Envelope:
    snap = member(pid, f"{pid}@club.example", firstName=pid.title()).profile
    return fairway_event(ProfileState(profile=snap, revision=1, updatedAt=NOW), T, pid)


def _tombstone(topic: str, key: str) -> Envelope:
    return registry.tombstone(topic, key, {"event_id": new_event_id(), "tenant_id": T})


async def test_state_topics_fill_the_read_model_and_trigger_nothing(harness: Any) -> None:
    journey = await harness.journey(T, "Lapsed", lapsed())
    state = StateReader(make_handler(harness.clock, harness.state.deps, state=True))

    async def feed_state(*envelopes: Envelope) -> None:
        async with harness.sessions() as s, s.begin():
            await state(s, [Delivery(envelope=e, headers={}) for e in envelopes])

    counters = {k: 0 for k in CountersState.model_fields if k.endswith(("30d", "90d"))}
    await feed_state(
        _profile("ann"), _profile("bob"),
        fairway_event(CountersState(profileId="ann", asOf=NOW, **{**counters, "bookingCount30d": 3}), T, "ann"),
        fairway_event(ScoresState(profileId="ann", engagementScore=64, churnRiskScore=12, riskLevel="LOW",
                                  updatedAt=NOW), T, "ann"),
        fairway_event(MembershipState(segmentId="seg-lapsed", segmentName="Lapsed", profileId="ann", since=NOW),
                      T, "seg-lapsed:ann"),
    )
    [(fields,)] = await harness.rows("SELECT fields FROM members WHERE tenant_id = :t AND profile_id = 'ann'", t=T)
    assert (fields["status"], fields["emailOptIn"], fields["bookingCount30d"], fields["engagementScore"]) == (
        "ACTIVE", True, 3, 64)
    assert await harness.rows("SELECT value FROM member_keys WHERE tenant_id = :t AND profile_id = 'ann'", t=T) == [
        ("ann@club.example",)]
    assert await harness.rows("SELECT profile_id FROM segment_members WHERE tenant_id = :t", t=T) == [("ann",)]
    assert await harness.run_of(journey, "ann") is None  # a snapshot is not an entry into the segment

    # bob enters live, so his run starts; identity's tombstone then ends it and removes him
    await harness.feed(fairway_event(SegmentMemberEntered(segmentId="seg-lapsed", segmentName="Lapsed",
                                                          profileId="bob", at=NOW), T, "seg-lapsed"))
    assert (await harness.run_of(journey, "bob")).status == "ACTIVE"
    await feed_state(_tombstone("crm.identity.state", "bob"), _tombstone("crm.segmentation.state", "seg-lapsed:ann"))
    run = await harness.run_of(journey, "bob")
    assert (run.status, run.end_reason) == ("EXITED", "ERASED")
    for table in ("members", "member_keys", "segment_members"):
        assert await harness.rows(f"SELECT 1 FROM {table} WHERE tenant_id = :t AND profile_id = 'bob'", t=T) == []
    assert await harness.rows("SELECT profile_id FROM segment_members WHERE tenant_id = :t", t=T) == []
    assert await harness.rows("SELECT profile_id FROM members WHERE tenant_id = :t", t=T) == [("ann",)]
