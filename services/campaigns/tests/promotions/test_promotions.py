"""Event promotion end to end: TeeTime's competition events on the real broker, the service's own consumer and
jobs, dispatch's ledger and the outbox as the record of every effect."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from camp_helpers import Club, member, no_dispatch_rules
from promo_helpers import Promotions
from sqlalchemy import text

N = 10


def steps(p: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["step"]: s for s in p["schedule"]}


async def club_of(promos: Promotions, n: int = N) -> list[str]:
    people = [member(i) for i in range(n)]
    await Club(promos.producer, promos.topics).members(people)
    await no_dispatch_rules(promos.api)
    await promos.settings()
    await promos.keys_known(n)
    return people


def start_in(promos: Promotions, days: int) -> datetime:
    return (promos.clock.now() + timedelta(days=days)).replace(hour=8, minute=0, second=0, microsecond=0)


async def test_published_competition_is_announced_posted_reminded_and_stops_when_full(promos: Promotions) -> None:
    people = await club_of(promos)
    starts = start_in(promos, 10)
    p = await promos.publish(starts, deadline=starts - timedelta(hours=6))
    s = steps(p)
    assert [s[f"REMINDER_{d}"]["status"] for d in (7, 3, 1)] == ["PENDING"] * 3
    assert s["ENTRANT_REMINDER"]["status"] == "PENDING" and s["DEADLINE"]["status"] == "PENDING"
    assert datetime.fromisoformat(s["REMINDER_3"]["dueAt"]) == starts.replace(hour=0) - timedelta(days=3)
    # The announcement is due at once: its job runs on its own and reaches the whole audience.
    p = await promos.promotion(lambda q: steps(q)["ANNOUNCE"]["status"] == "DONE", "the announcement")
    ledger = await promos.ledger(p["id"])
    assert ledger["ANNOUNCE"] == people
    assert len(await promos.outbox("social.post.requested", p["id"])) == 1
    assert len(await promos.outbox("promotion.created", p["id"])) == 1

    # p00003 enters: told once they are in, and passed over by the reminder.
    await promos.enter(people[3], "E-1", entries=1, capacity=2)
    await promos.enter(people[3], "E-1", entries=1, capacity=2)  # TeeTime repeats itself
    await promos.promotion(lambda q: q["results"]["entries"]["total"] == 1 and q["capacity"] == 2, "the entry")
    await promos.run(p, "REMINDER_7")
    ledger = await promos.ledger(p["id"])
    assert ledger["CONFIRM"] == [people[3]]
    assert ledger["REMINDER_7"] == [x for x in people if x != people[3]]
    sent = await promos.outbox("promotion.reminder_sent", p["id"])
    assert [(e["step"], e["recipients"]) for e in sent] == [("REMINDER_7", N - 1)]
    assert len(await promos.outbox("social.post.requested", p["id"])) == 2  # the reminder's post

    # Full: the remaining reminders stop, even when their jobs come; entrants still hear the day before.
    await promos.teetime("teetime.competition.full", {"capacity": 2, "entries": 2})
    p = await promos.promotion(lambda q: q["status"] == "STOPPED", "the stop")
    assert p["stopReason"] == "FULL"
    assert {k: v["status"] for k, v in steps(p).items() if k.startswith("REMINDER")} == {
        "REMINDER_7": "DONE", "REMINDER_3": "STOPPED", "REMINDER_1": "STOPPED"}
    await promos.run(p, "REMINDER_3")
    await promos.run(p, "ENTRANT_REMINDER")
    ledger = await promos.ledger(p["id"])
    assert "REMINDER_3" not in ledger and ledger["ENTRANT_REMINDER"] == [people[3]]
    stopped = await promos.outbox("promotion.stopped", p["id"])
    assert [(e["reason"], e["stoppedSteps"]) for e in stopped] == [("FULL", ["REMINDER_1", "REMINDER_3"])]
    results = (await promos.get(p["id"]))["results"]
    async with promos.svc.runtime.sessionmaker() as session:
        requested = (await session.execute(text(
            "SELECT count(DISTINCT profile_id) FROM dispatch_ledger WHERE source_id IN (:p, :e) "
            "AND status = 'REQUESTED'"), {"p": p["id"], "e": f"{p['id']}/entrants"})).scalar_one()
    assert results["reach"] == requested  # the rest wait for their best time in dispatch
    assert sum(x["count"] for x in results["sends"]) == N + 1 + (N - 1) + 1
    assert results["entries"] == {"total": 1, "attributed": 1, "capacity": 2, "attributionDays": 14}


async def test_a_new_date_moves_the_reminders_and_a_cancellation_stops_everything(promos: Promotions) -> None:
    people = await club_of(promos, 4)
    starts = start_in(promos, 12)
    p = await promos.publish(starts)
    old = steps(p)
    await promos.enter(people[1], "E-9")
    moved = starts + timedelta(days=3)
    await promos.teetime("teetime.competition.updated", {
        "name": "Stonehaven Winter Medal", "startsAt": moved.isoformat(), "capacity": 40, "changed": ["startsAt"]})
    p = await promos.promotion(lambda q: q["startsAt"] != old["REMINDER_7"]["dueAt"] and
                               steps(q)["REMINDER_7"]["dueAt"] != old["REMINDER_7"]["dueAt"], "the move")
    for step in ("REMINDER_7", "REMINDER_3", "REMINDER_1", "ENTRANT_REMINDER"):
        assert (datetime.fromisoformat(steps(p)[step]["dueAt"])
                - datetime.fromisoformat(old[step]["dueAt"])) == timedelta(days=3)
    # The job planned for the old time finds the step moved and sends nothing.
    await promos.run(p, "REMINDER_7", at=datetime.fromisoformat(old["REMINDER_7"]["dueAt"]),
                     due=old["REMINDER_7"]["dueAt"])
    assert "REMINDER_7" not in await promos.ledger(p["id"])

    await promos.teetime("teetime.competition.cancelled", {"reason": "course closed"})
    await promos.teetime("teetime.competition.cancelled", {"reason": "course closed"})  # said twice
    p = await promos.promotion(lambda q: q["status"] == "CANCELLED", "the cancellation")
    assert all(s["status"] in ("DONE", "STOPPED") for s in p["schedule"])
    for step in ("REMINDER_7", "REMINDER_1", "ENTRANT_REMINDER"):
        await promos.run(p, step)
    ledger = await promos.ledger(p["id"])
    assert ledger["CANCELLED"] == [people[1]]  # entrants told once
    assert ledger.get("CONFIRM") == [people[1]]
    assert not {"REMINDER_7", "REMINDER_1", "ENTRANT_REMINDER"} & set(ledger)
    stopped = await promos.outbox("promotion.stopped", p["id"])
    assert [e["reason"] for e in stopped] == ["CANCELLED"]
    withdrawn = [e for e in await promos.outbox("social.post.requested", p["id"]) if e["cancel"]]
    assert [e["requestId"] for e in withdrawn] == [
        e["requestId"] for e in await promos.outbox("social.post.requested", p["id"]) if not e["cancel"]]


async def test_a_competition_two_days_away_gets_only_the_one_day_reminder(promos: Promotions) -> None:
    await promos.settings()
    r = await promos.svc.http.post("/api/v1/promotions", headers=promos.headers, json={
        "name": "Twilight Betterball", "startsAt": (promos.clock.now() + timedelta(days=2)).isoformat(),
        "channels": ["EMAIL", "SMS"]})
    assert r.status_code == 201, r.text
    s = steps(r.json())
    assert [s[f"REMINDER_{d}"]["status"] for d in (7, 3, 1)] == ["SKIPPED", "SKIPPED", "PENDING"]
    assert "ENTRANT_REMINDER" not in s  # no competition: nobody enters through TeeTime
    created = await promos.outbox("promotion.created", r.json()["id"])
    assert [e["reminderDays"] for e in created] == [[1]]


async def test_bad_input_names_the_field(promos: Promotions) -> None:
    r = await promos.svc.http.put("/api/v1/promotions/settings", headers=promos.headers,
                                  json={"reminderDays": [3, 3]})
    assert r.status_code == 422 and "reminderDays" in r.text
    r = await promos.svc.http.post("/api/v1/promotions", headers=promos.headers, json={
        "name": "Captain's Day", "startsAt": (promos.clock.now() + timedelta(days=9)).isoformat()})
    assert r.status_code == 422 and "audienceSegmentId" in r.text  # no audience in the body or the settings
    r = await promos.svc.http.get("/api/v1/promotions/nope", headers=promos.headers)
    assert r.status_code == 404
