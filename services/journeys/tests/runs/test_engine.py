"""The engine end to end on a real database: triggers, every step type, timers, goals, versions, re-entry."""
from __future__ import annotations

from harness import Harness, fairway_event, member, upstream
from samples import lapsed, welcome

from fairway_events.contracts.dispatch import DispatchOutcomeRecorded, DispatchSource
from fairway_events.contracts.segmentation import SegmentMemberEntered
from fairway_events.contracts.timeline import TimelineCountersUpdated

T = "stonehaven"


async def test_welcome_series_walks_every_step(harness: Harness) -> None:
    jid = await harness.journey(T, "Welcome", welcome())
    await harness.feed(fairway_event(member("p-ann", "ann.fraser@stonehavengolf.co.uk"), T, "p-ann"))
    run = await harness.run_of(jid, "p-ann")
    assert (run.status, run.step_id, run.waiting) == ("ACTIVE", "wait2d", "timer")
    requests = await harness.published("dispatch.requested")
    assert [(r["profileId"], r["channel"], r["content"]["templateId"]) for r in requests] == [
        ("p-ann", "EMAIL", "welcome-new-member")]

    assert await harness.advance(T, days=1) == 0  # not due yet: nothing fires early
    assert await harness.advance(T, days=1) == 1
    run = await harness.run_of(jid, "p-ann")
    assert run.status == "COMPLETED"
    assert await harness.steps(run.id) == [("welcome", "sent"), ("wait2d", "next"), ("booked", "no"),
                                           ("nudge", "sent"), ("tag", "next"), ("end", "end")]
    update = (await harness.published("profile.update_requested"))[0]
    assert (update["profileId"], update["addTags"], update["sourceId"]) == ("p-ann", ["welcomed"], jid)
    types = [r.event_type for r in await harness.rows(
        "SELECT event_type FROM event_outbox WHERE topic = 'crm.journeys' AND event_type LIKE 'run.%' ORDER BY id")]
    assert types[0] == "run.started" and types[-1] == "run.completed" and types.count("run.step_completed") == 5
    assert await harness.advance(T, days=30) == 0  # an ended run executes nothing more


async def test_condition_reads_counters_from_the_read_model(harness: Harness) -> None:
    jid = await harness.journey(T, "Welcome", welcome())
    await harness.feed(fairway_event(member("p-bo", "bo.mackay@stonehavengolf.co.uk"), T, "p-bo"))
    await harness.feed(fairway_event(TimelineCountersUpdated(
        profileId="p-bo", asOf=harness.clock.now(), activityCount30d=1, activityCount90d=1, bookingCount30d=1,
        bookingCount90d=1, roundsPlayed30d=0, roundsPlayed90d=0, emailSends30d=1, emailOpens30d=0,
        emailClicks30d=0), T, "p-bo"))
    await harness.advance(T, days=2)
    run = await harness.run_of(jid, "p-bo")
    assert [s for s in await harness.steps(run.id)][2] == ("booked", "yes")
    assert len(await harness.published("dispatch.requested")) == 1  # no nudge for someone who booked


async def test_members_in_flight_stay_on_their_version(harness: Harness) -> None:
    jid = await harness.journey(T, "Welcome", welcome())
    await harness.feed(fairway_event(member("p-old", "old.timer@stonehavengolf.co.uk"), T, "p-old"))
    edited = welcome()
    edited["steps"] = [s for s in edited["steps"] if s["id"] != "wait2d"]  # v2 has no wait at all
    edited["steps"][0]["next"] = "booked"
    await harness.edit_and_activate(T, jid, edited)
    await harness.feed(fairway_event(member("p-new", "new.joiner@stonehavengolf.co.uk"), T, "p-new"))

    new = await harness.run_of(jid, "p-new")
    assert (new.version, new.status) == (2, "COMPLETED")
    old = await harness.run_of(jid, "p-old")
    assert (old.version, old.status, old.step_id) == (1, "ACTIVE", "wait2d")  # waiting at a step v2 removed
    await harness.advance(T, days=2)
    old = await harness.run_of(jid, "p-old")
    assert old.status == "COMPLETED"
    assert [s for s, _ in await harness.steps(old.id)] == ["welcome", "wait2d", "booked", "nudge", "tag", "end"]


async def test_keyed_trigger_enters_once_per_booking(harness: Harness) -> None:
    d = {
        "trigger": {"type": "event", "eventType": "teetime.booking.created", "key": "bookingId"},
        "entry": {"reentry": False, "oneActiveRun": False},
        "steps": [
            {"id": "confirm", "type": "SEND", "channel": "EMAIL", "templateId": "booking-reminder", "next": "end"},
            {"id": "end", "type": "END"},
        ],
    }
    jid = await harness.journey(T, "Booking reminder", d)
    await harness.feed(fairway_event(member("p-cal", "cal.reid@stonehavengolf.co.uk"), T, "p-cal"))
    who = {"email": "Cal.Reid@stonehavengolf.co.uk"}
    b1 = upstream("teetime.booking.created", T, who, {"bookingId": "BK-1001", "courseName": "Old Course"})
    await harness.feed(b1)
    await harness.feed(b1)  # redelivered
    await harness.feed(upstream("teetime.booking.created", T, who, {"bookingId": "BK-1001"}))  # same booking again
    await harness.feed(upstream("teetime.booking.created", T, who, {"bookingId": "BK-1002"}),
                       upstream("teetime.booking.created", T, who, {"bookingId": "BK-1003"}))  # one batch
    keys = sorted(r.entry_key for r in await harness.rows("SELECT entry_key FROM runs WHERE journey_id = :j", j=jid))
    assert keys == ["key:BK-1001", "key:BK-1002", "key:BK-1003"]
    assert len(await harness.published("dispatch.requested")) == 3


async def test_goal_exits_mid_wait_and_wait_for_open_times_out(harness: Harness) -> None:
    jid = await harness.journey(T, "Lapsed golfer", lapsed())
    for pid, email in (("p-dee", "dee.ross@stonehavengolf.co.uk"), ("p-eli", "eli.grant@stonehavengolf.co.uk")):
        await harness.feed(fairway_event(member(pid, email), T, pid))
        await harness.feed(fairway_event(SegmentMemberEntered(
            segmentId="seg-lapsed", segmentName="Lapsed golfers", profileId=pid, at=harness.clock.now()), T,
            "seg-lapsed"))
    sent = {r["profileId"]: r["requestId"] for r in await harness.published("dispatch.requested")}
    # Eli opens the email: the WAIT ends on the event; Dee never does: her WAIT times out into the SMS.
    await harness.feed(upstream("messaging.email.opened", T, {"email": "eli.grant@stonehavengolf.co.uk"},
                                {"messageId": "m-77", "sendRequestId": sent["p-eli"]}))
    eli = await harness.run_of(jid, "p-eli")
    assert eli.status == "COMPLETED"
    assert (await harness.steps(eli.id))[1] == ("opened", "event")
    await harness.advance(T, days=3)
    dee = await harness.run_of(jid, "p-dee")
    assert (dee.step_id, dee.waiting) == ("wait-book", "timer")
    assert (await harness.steps(dee.id))[1] == ("opened", "timeout")
    assert [r["channel"] for r in await harness.published("dispatch.requested")][-1] == "SMS"
    # Dee books a tee time five days later: the goal converts her run in the middle of its 14-day WAIT.
    harness.clock.advance(days=5)
    await harness.feed(upstream("teetime.booking.created", T, {"email": "dee.ross@stonehavengolf.co.uk"},
                                {"bookingId": "BK-2001"}, at=harness.clock.now()))
    dee = await harness.run_of(jid, "p-dee")
    assert (dee.status, dee.end_reason, dee.step_id) == ("CONVERTED", "GOAL", "wait-book")
    assert await harness.rows("SELECT * FROM run_timers WHERE run_id = :r", r=dee.id) == []
    assert await harness.advance(T, days=14) == 0
    converted = await harness.published("run.converted")
    assert [(c["profileId"], c["stepId"]) for c in converted] == [("p-dee", "wait-book")]


async def test_a_refused_send_takes_the_not_sent_branch(harness: Harness) -> None:
    d = {
        "trigger": {"type": "manual"},
        "steps": [
            {"id": "offer", "type": "SEND", "channel": "SMS", "content": {"body": "Twilight green fees, R250"},
             "next": "end", "notSent": "email"},
            {"id": "email", "type": "SEND", "channel": "EMAIL", "templateId": "twilight-offer", "next": "end"},
            {"id": "end", "type": "END"},
        ],
    }
    jid = await harness.journey(T, "Twilight offer", d)
    await harness.feed(fairway_event(member("p-fin", "fin.ogilvie@stonehavengolf.co.uk"), T, "p-fin"))
    await harness.enrol(T, jid, "p-fin")
    run = await harness.run_of(jid, "p-fin")
    assert run.waiting == "dispatch.outcome"
    req = (await harness.published("dispatch.requested"))[0]
    await harness.feed(fairway_event(DispatchOutcomeRecorded(
        requestId=req["requestId"], profileId="p-fin", channel="SMS", outcome="NO_CONSENT",
        reason="smsOptIn is false", source=DispatchSource(kind="JOURNEY", id=jid), at=harness.clock.now()),
        T, "p-fin"))
    run = await harness.run_of(jid, "p-fin")
    assert run.status == "COMPLETED"
    assert await harness.steps(run.id) == [("offer", "not_sent"), ("email", "sent"), ("end", "end")]
    outcome = await harness.rows("SELECT outcome, reason FROM sends WHERE request_id = :r", r=req["requestId"])
    assert tuple(outcome[0]) == ("NO_CONSENT", "smsOptIn is false")


async def test_runs_of_one_tenant_never_touch_another(harness: Harness) -> None:
    jid = await harness.journey(T, "Welcome", welcome())
    await harness.feed(fairway_event(member("p-gus", "gus@fairwaygolf.co.za"), "fairwaygolf", "p-gus"))
    assert await harness.run_of(jid, "p-gus") is None  # another club's member never enters this club's journey
    r = await harness.enrol(T, jid, "p-gus")
    assert r.refused == {"p-gus": "not a known, active member"}
