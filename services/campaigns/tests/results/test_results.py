"""Results fill in from Messaging's events and upstream bookings: per campaign, per hour, against the control group."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from camp_helpers import Api, Club, audience_of, email_of, member, no_dispatch_rules, state_of
from sqlalchemy import text

from fairway_events import TopicNames
from fairway_testkit import RunningService, send_upstream, wait_for

N = 200


async def test_results_from_messaging_and_bookings_with_control_uplift(svc: RunningService, producer: Any,
                                                                        created_topics: TopicNames) -> None:
    api = Api(svc)
    club = Club(producer, created_topics)
    await club.members([member(i) for i in range(N)])
    await no_dispatch_rules(api, controlGroupShare=0.2)
    c = await api.create(schedule={"kind": "NOW"})
    await audience_of(api, c["id"], N)
    await api.action(c["id"], "schedule")
    await state_of(api, c["id"], "COMPLETED")
    async with svc.runtime.sessionmaker() as s:
        rows = (await s.execute(text("SELECT request_id, profile_id, outcome FROM campaign_messages "
                                     "WHERE campaign_id = :c ORDER BY profile_id"), {"c": c["id"]})).all()
    requested = [r for r in rows if r.outcome == "REQUESTED"]
    control = [r for r in rows if r.outcome == "CONTROL_GROUP"]
    assert len(requested) + len(control) == N and 10 < len(control) < 80  # a stable 20 % hash, roughly

    def msg(r: Any) -> dict[str, Any]:
        return {"messageId": f"m-{r.request_id}", "sendRequestId": r.request_id, "campaignId": c["id"]}

    for r in requested[:10]:
        await club.messaging("messaging.email.sent", r.profile_id, msg(r))
        await club.messaging("messaging.email.delivered", r.profile_id, msg(r))
    for r in requested[:6]:
        await club.messaging("messaging.email.opened", r.profile_id, msg(r))
    await club.messaging("messaging.email.opened", requested[0].profile_id, msg(requested[0]))  # a second open
    for r in requested[:3]:
        await club.messaging("messaging.email.clicked", r.profile_id, {**msg(r), "url": "https://stonehavengolf.co.uk"})
    await club.messaging("messaging.email.bounced", requested[9].profile_id, {**msg(requested[9]), "bounceType": "HARD"})
    await send_upstream(producer, created_topics, "messaging.unsubscribed", "stonehaven",
                        {"email": email_of(requested[8].profile_id)}, {"channel": "EMAIL"})
    booking = {"bookingId": "bk-1", "amount": "450.00", "courseName": "Stonehaven Links"}
    first = await send_upstream(producer, created_topics, "teetime.booking.created", "stonehaven",
                                {"email": email_of(requested[1].profile_id)}, booking)
    await send_upstream(producer, created_topics, "teetime.booking.created", "stonehaven",
                        {"email": email_of(requested[1].profile_id)}, booking, event_id=first)  # redelivered
    await send_upstream(producer, created_topics, "teetime.purchase.completed", "stonehaven",
                        {"email": email_of(requested[2].profile_id)}, {"purchaseId": "pu-1", "amount": "120.50"})
    await send_upstream(producer, created_topics, "teetime.booking.created", "stonehaven",
                        {"email": email_of(control[0].profile_id)}, {"bookingId": "bk-2", "amount": "300"})
    await send_upstream(producer, created_topics, "teetime.booking.created", "stonehaven",
                        {"email": "visitor@fairwaygolf.co.za"}, {"bookingId": "bk-3", "amount": "999"})

    async def filled() -> dict[str, Any] | None:
        s = await api.get(f"/{c['id']}/stats")
        t = s["total"]
        done = (t["converted"] == 2 and t["unsubscribed"] == 1 and t["bounced"] == 1 and t["clicked"] == 3
                and s["uplift"]["controlConverted"] == 1)
        return s if done else None

    stats = await wait_for(filled, timeout=60, what="the results to fill in")
    t = stats["total"]
    assert (t["requested"], t["sent"], t["delivered"], t["opened"], t["clicked"]) == (len(requested), 10, 10, 6, 3)
    assert t["skipped"] == {"CONTROL_GROUP": len(control)} and t["targeted"] == N
    assert Decimal(t["revenue"]) == Decimal("570.50")
    assert t["openRate"] == round(6 / len(requested), 4)
    u = stats["uplift"]
    assert u["controlSize"] == len(control) and u["treatedConversionRate"] == round(2 / len(requested), 4)
    assert u["absoluteUplift"] == round(round(2 / len(requested), 4) - round(1 / len(control), 4), 4)
    hours = stats["hourly"]
    assert sum(h["requested"] for h in hours) == len(requested) and sum(h["opened"] for h in hours) == 6


async def test_a_large_batch_of_outcomes_is_recorded_in_one_go(svc: RunningService) -> None:
    """A fan-out batch of 5,000 recipients: more bind parameters than one statement may carry (asyncpg: 32,767)."""
    from datetime import UTC, datetime

    from fairway_campaigns.results.repository import NewMessage, ResultRepository

    now = datetime.now(UTC)
    rows = [NewMessage(request_id=f"r-{i}", campaign_id="c-big", profile_id=member(i), channel="EMAIL", variant=None,
                       wave="ALL", outcome="REQUESTED", reason=None, submitted_at=now) for i in range(5000)]
    async with svc.runtime.sessionmaker() as s, s.begin():
        await ResultRepository(s, "stonehaven").record(rows)
        await ResultRepository(s, "stonehaven").record(rows[:10])  # again: nothing twice
    async with svc.runtime.sessionmaker() as s:
        n = (await s.execute(text("SELECT count(*) FROM campaign_messages WHERE campaign_id = 'c-big'"))).scalar_one()
    assert n == 5000


async def test_conversions_count_within_each_campaigns_own_conversion_days(
        svc: RunningService, producer: Any, created_topics: TopicNames) -> None:
    """An A/B test measuring CONVERSION over 14 days counts a booking 10 days after its message (the default
    window of 7 would not) but not one after 20 days; a campaign without a window of its own keeps 7 days."""
    from datetime import timedelta

    api = Api(svc)
    club = Club(producer, created_topics)
    await club.members([member(i) for i in range(4)])
    await club.members([member(9)], segment="seg-juniors")
    await no_dispatch_rules(api)
    ab = {"variants": [{"name": "A", "subject": "Book a winter round"}, {"name": "B", "subject": "Winter rates"}],
          "testShare": 0.5, "metric": "CONVERSION", "conversionDays": 14, "durationHours": 24 * 14}
    tested = await api.create(schedule={"kind": "NOW"}, abTest=ab)
    plain = await api.create(schedule={"kind": "NOW"}, targetSegmentId="seg-juniors")
    await audience_of(api, tested["id"], 4)
    await audience_of(api, plain["id"], 1)
    for c in (tested, plain):
        await api.action(c["id"], "schedule")

    async def waiting() -> bool:
        return (await api.get(f"/{tested['id']}"))["phase"] == "WAITING"

    await wait_for(waiting, timeout=60, what="the test wave to be out")
    await state_of(api, plain["id"], "COMPLETED")
    async with svc.runtime.sessionmaker() as s:
        wave = (await s.execute(text("SELECT profile_id, submitted_at FROM campaign_messages WHERE campaign_id = :c "
                                     "AND wave = 'TEST' ORDER BY profile_id"), {"c": tested["id"]})).all()
    assert len(wave) == 2
    sent = max(r.submitted_at for r in wave)
    late, in_window = wave[0].profile_id, wave[1].profile_id

    async def book(profile_id: str, days: int, booking: str) -> None:
        # One key: the consumer sees these in this order, so once the last counts the others were decided.
        await send_upstream(producer, created_topics, "teetime.booking.created", "stonehaven",
                            {"email": email_of(profile_id)}, {"bookingId": booking, "amount": "100"},
                            at=sent + timedelta(days=days), key="bookings")

    await book(late, 20, "bk-late")  # past the test's 14 days
    await book(member(9), 10, "bk-junior")  # past the plain campaign's default 7 days
    await book(in_window, 10, "bk-in")  # inside 14 days, outside the default 7

    async def converted() -> int:
        return (await api.get(f"/{tested['id']}/stats"))["total"]["converted"]

    await wait_for(converted, timeout=60, what="the booking within the test's window to count")
    async with svc.runtime.sessionmaker() as s:
        rows = dict((await s.execute(text("SELECT profile_id, converted_at FROM campaign_messages "
                                          "WHERE converted_at IS NOT NULL"))).all())
    assert set(rows) == {in_window}
    assert rows[in_window] == sent + timedelta(days=10)
    assert (await api.get(f"/{plain['id']}/stats"))["total"]["converted"] == 0
