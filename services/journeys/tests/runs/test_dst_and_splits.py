"""A timer across a daylight-saving change, fired by the engine; an A/B SPLIT that picks its winner."""
from __future__ import annotations

from datetime import UTC, datetime

from harness import Harness, fairway_event, member, upstream

from fairway_events.contracts.dispatch import DispatchOutcomeRecorded, DispatchSource
from fairway_journeys import upkeep
from fairway_journeys.definitions.repository import JourneyRepository

T = "stonehaven"


async def test_a_one_day_wait_fires_at_the_same_wall_clock_time_after_dst(harness: Harness) -> None:
    d = {
        "trigger": {"type": "manual"},
        "timezone": "Europe/London",
        "steps": [
            {"id": "wait", "type": "WAIT", "kind": "duration", "duration": "1 day", "next": "remind"},
            {"id": "remind", "type": "SEND", "channel": "EMAIL", "templateId": "competition-reminder", "next": "end"},
            {"id": "end", "type": "END"},
        ],
    }
    harness.clock.set(datetime(2026, 3, 28, 9, 0, tzinfo=UTC))  # Saturday 09:00 GMT
    jid = await harness.journey(T, "Medal reminder", d)
    await harness.feed(fairway_event(member("p-jo", "jo.watt@stonehavengolf.co.uk"), T, "p-jo"))
    await harness.enrol(T, jid, "p-jo")
    due = (await harness.rows("SELECT due_at FROM run_timers"))[0].due_at
    assert due == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # Sunday 09:00 BST
    assert await harness.advance(T, hours=22, minutes=59) == 0  # one minute before: nothing
    assert await harness.advance(T, minutes=1) == 1
    assert (await harness.run_of(jid, "p-jo")).status == "COMPLETED"


async def test_ab_split_picks_the_winner_and_new_runs_take_it(harness: Harness) -> None:
    d = {
        "trigger": {"type": "manual"},
        "entry": {"reentry": True, "oneActiveRun": False},
        "steps": [
            {"id": "subject", "type": "SPLIT", "abTest": {"metric": "OPEN_RATE", "confidence": 0.95, "minSample": 30},
             "branches": [{"name": "urgency", "next": "send-a"}, {"name": "curiosity", "next": "send-b"}]},
            {"id": "send-a", "type": "SEND", "channel": "EMAIL",
             "content": {"subject": "Last tee times this Saturday", "body": "Book now"}, "next": "end"},
            {"id": "send-b", "type": "SEND", "channel": "EMAIL",
             "content": {"subject": "Guess who is back on the Old Course?", "body": "Book now"}, "next": "end"},
            {"id": "end", "type": "END"},
        ],
    }
    jid = await harness.journey(T, "Weekend fill", d)
    people = [(f"p-{i:03d}", f"golfer{i:03d}@stonehavengolf.co.uk") for i in range(120)]
    await harness.feed(*(fairway_event(member(p, e), T, p) for p, e in people))
    await harness.enrol(T, jid, *(p for p, _ in people), key="wave-1")
    sends = await harness.rows("SELECT request_id, variant, profile_id FROM sends")
    arms = {v: sum(1 for s in sends if s.variant == v) for v in ("subject:urgency", "subject:curiosity")}
    assert min(arms.values()) >= 30  # the draw is weighted 50/50
    await harness.feed(*(fairway_event(DispatchOutcomeRecorded(
        requestId=s.request_id, profileId=s.profile_id, channel="EMAIL", outcome="REQUESTED",
        source=DispatchSource(kind="JOURNEY", id=jid), at=harness.clock.now()), T, s.profile_id) for s in sends))
    email = dict(people)
    opened = [s for i, s in enumerate(sends) if (s.variant == "subject:urgency" and i % 5 != 0)
              or (s.variant == "subject:curiosity" and i % 4 == 0)]
    await harness.feed(*(upstream("messaging.email.opened", T, {"email": email[s.profile_id]},
                                  {"messageId": f"m-{s.request_id}", "sendRequestId": s.request_id}) for s in opened))
    async with harness.sessions() as s:
        j = await JourneyRepository(s, T).get(jid)
    assert await upkeep.decide_splits(harness.sessions, harness.state, j) == ["subject"]
    winner = (await harness.rows("SELECT branch, confidence FROM split_winners"))[0]
    assert winner.branch == "urgency" and winner.confidence > 0.99
    await harness.enrol(T, jid, *(p for p, _ in people[:40]), key="wave-2")
    wave2 = await harness.rows("SELECT s.variant FROM sends s JOIN runs r ON r.id = s.run_id "
                               "WHERE r.entry_key = 'wave-2'")
    assert len(wave2) == 40 and {w.variant for w in wave2} == {"subject:urgency"}
