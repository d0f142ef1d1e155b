"""A/B tests end to end: the test wave goes out in variants, Messaging's open events come back, the decision picks
(or does not pick) a winner at the test's end, and the winner goes to the rest automatically."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from camp_helpers import Api, Club, audience_of, fast_jobs, member, no_dispatch_rules, state_of
from sqlalchemy import text

from fairway_campaigns.app import create_app
from fairway_campaigns.settings import Settings
from fairway_events import TopicNames
from fairway_testkit import RunningService, run_service, wait_for

N = 600
TEST_SECONDS = 15


@pytest.fixture
async def svc(settings_for: Callable[..., Settings], created_topics: TopicNames) -> AsyncIterator[RunningService]:
    async with run_service(create_app(fast_jobs(settings_for, fanout_batch_size=100))) as running:
        yield running


def ab(no_winner: str) -> dict[str, Any]:
    return {"variants": [{"name": "A", "subject": "Your winter tee time is waiting"},
                         {"name": "B", "subject": "Stonehaven winter rates"}],
            "testShare": 0.5, "metric": "OPEN_RATE", "durationHours": TEST_SECONDS / 3600, "confidence": 0.95,
            "noWinner": no_winner}


def _opens(share: float) -> int:
    """How many of a variant's test recipients open, as _run_test_wave plays Messaging."""
    return sum(n % 100 < share * 100 for n in range(1, N // 4 + 1))


async def _rows(svc: RunningService, sql: str, **params: object) -> list[Any]:
    async with svc.runtime.sessionmaker() as s:
        return list((await s.execute(text(sql), params)).all())


async def _run_test_wave(svc: RunningService, club: Club, no_winner: str, open_share: dict[str, float]
                         ) -> dict[str, Any]:
    api = Api(svc)
    await club.members([member(i) for i in range(N)])
    await no_dispatch_rules(api)
    c = await api.create(schedule={"kind": "NOW"}, abTest=ab(no_winner))
    await audience_of(api, c["id"], N)
    await api.action(c["id"], "schedule")

    async def test_wave_out() -> list[Any]:
        rows = await _rows(svc, "SELECT request_id, profile_id, variant FROM campaign_messages "
                                "WHERE campaign_id = :c AND wave = 'TEST' ORDER BY profile_id", c=c["id"])
        return rows if len(rows) == N // 2 else []

    wave = await wait_for(test_wave_out, timeout=60, what="the test wave")
    assert {r.variant for r in wave} == {"A", "B"}
    assert abs(sum(r.variant == "A" for r in wave) - N // 4) <= 1  # dealt in turn

    async def waiting() -> bool:  # the step after the wave's last batch moves on to the test's waiting phase
        return (await api.get(f"/{c['id']}"))["phase"] == "WAITING"

    await wait_for(waiting, timeout=30, what="the A/B test's waiting phase")
    # Messaging answers: a share of each variant's recipients opens.
    seen: dict[str, int] = {"A": 0, "B": 0}
    for r in wave:
        seen[r.variant] += 1
        if (seen[r.variant] % 100) < open_share[r.variant] * 100:
            await club.messaging("messaging.email.opened", r.profile_id, {
                "messageId": f"m-{r.request_id}", "sendRequestId": r.request_id, "campaignId": c["id"],
                "variant": r.variant})
    await club.producer.flush()

    async def opens_counted() -> bool:
        stats = await api.get(f"/{c['id']}/stats")
        return stats["total"]["opened"] == _opens(open_share["A"]) + _opens(open_share["B"])

    await wait_for(opens_counted, timeout=TEST_SECONDS, what="the opens to be counted before the test ends")
    return c


async def test_significant_winner_goes_to_the_rest(svc: RunningService, producer: object,
                                                   created_topics: TopicNames) -> None:
    club = Club(producer, created_topics)
    c = await _run_test_wave(svc, club, "SEND_NONE", {"A": 0.6, "B": 0.2})
    api = Api(svc)
    done = await state_of(api, c["id"], "COMPLETED", timeout=90)
    assert done["winner"] == "A"
    stats = await api.get(f"/{c['id']}/stats")
    decision = stats["abTest"]
    assert decision["decision"] == "SIGNIFICANT" and decision["pValue"] < 0.05
    assert {v["variant"]: v["recipients"] for v in decision["variants"]} == {"A": N // 4, "B": N // 4}
    rest = await _rows(svc, "SELECT variant, count(*) FROM campaign_messages WHERE campaign_id = :c "
                            "AND wave = 'REST' GROUP BY variant", c=c["id"])
    assert [tuple(r) for r in rest] == [("A", N // 2)]
    published = await _rows(svc, "SELECT body FROM event_outbox WHERE event_type = 'ab_test.winner_selected' "
                                 "AND key = :c", c=c["id"])
    assert len(published) == 1 and '"winner":"A"' in published[0].body.replace(" ", "")
    by_variant = {v["variant"]: v for v in stats["variants"]}
    assert by_variant["A"]["opened"] == _opens(0.6) and by_variant["B"]["opened"] == _opens(0.2)
    assert by_variant["A"]["requested"] == N // 4 + N // 2


async def test_no_significant_winner_and_the_tenant_sends_none(svc: RunningService, producer: object,
                                                                created_topics: TopicNames) -> None:
    club = Club(producer, created_topics)
    c = await _run_test_wave(svc, club, "SEND_NONE", {"A": 0.3, "B": 0.28})
    api = Api(svc)
    done = await state_of(api, c["id"], "COMPLETED", timeout=90)
    assert done["winner"] is None
    decision = (await api.get(f"/{c['id']}/stats"))["abTest"]
    assert decision["decision"] == "NONE" and decision["pValue"] > 0.05
    rest = await _rows(svc, "SELECT count(*) FROM campaign_messages WHERE campaign_id = :c AND wave = 'REST'",
                       c=c["id"])
    assert rest[0][0] == 0
    ledger = await _rows(svc, "SELECT count(*) FROM dispatch_ledger WHERE source_id = :c", c=c["id"])
    assert ledger[0][0] == N // 2  # the rest got nothing
    published = await _rows(svc, "SELECT body FROM event_outbox WHERE event_type = 'ab_test.winner_selected' "
                                 "AND key = :c", c=c["id"])
    assert len(published) == 1 and '"decision":"NONE"' in published[0].body.replace(" ", "")


async def test_results_per_variant_and_channel(svc: RunningService, producer: object,
                                               created_topics: TopicNames) -> None:
    """Each variant goes out on EMAIL and SMS; stats give every variant's figures per channel (what dispatch did on
    that channel, what Messaging said), and the campaign's per channel."""
    club = Club(producer, created_topics)
    api = Api(svc)
    n = 40
    sms_people = [member(i) for i in range(n // 2)]
    await club.members(sms_people, sms_opt_in=True)
    await club.members([member(i) for i in range(n // 2, n)])  # no SMS opt-in: SMS is skipped for them
    await no_dispatch_rules(api)
    test = {**ab("SEND_NONE"), "durationHours": 24}
    c = await api.create(schedule={"kind": "NOW"}, channels=["EMAIL", "SMS"], abTest=test, content={
        "EMAIL": {"subject": "Winter golf at Stonehaven", "body": "Midweek rounds are 20% off."},
        "SMS": {"body": "Stonehaven: midweek rounds 20% off this winter."}})
    await audience_of(api, c["id"], n)
    await api.action(c["id"], "schedule")

    async def waiting() -> bool:
        return (await api.get(f"/{c['id']}"))["phase"] == "WAITING"

    await wait_for(waiting, timeout=60, what="the test wave to be out")
    wave = await _rows(svc, "SELECT request_id, profile_id, variant, channel, outcome FROM campaign_messages "
                            "WHERE campaign_id = :c ORDER BY profile_id, channel", c=c["id"])
    assert len(wave) == n  # 20 people in the test wave, one message per channel each
    expected: dict[tuple[str, str], dict[str, int]] = {}
    for r in wave:
        cell = expected.setdefault((r.variant, r.channel), {"requested": 0, "skipped": 0, "opened": 0,
                                                              "delivered": 0})
        if r.outcome != "REQUESTED":
            assert (r.channel, r.outcome, r.profile_id in sms_people) == ("SMS", "NO_CONSENT", False)
            cell["skipped"] += 1
            continue
        cell["requested"] += 1
        msg = {"messageId": f"m-{r.request_id}", "sendRequestId": r.request_id, "campaignId": c["id"],
               "variant": r.variant}
        # Variant A's emails are opened, B's are not; every SMS is delivered.
        if r.channel == "EMAIL" and r.variant == "A":
            await club.messaging("messaging.email.opened", r.profile_id, msg)
            cell["opened"] += 1
        if r.channel == "SMS":
            await club.messaging("messaging.sms.delivered", r.profile_id, msg)
            cell["delivered"] += 1
    assert expected[("A", "SMS")]["skipped"] + expected[("B", "SMS")]["skipped"] > 0

    async def filled() -> dict[str, Any] | None:
        s = await api.get(f"/{c['id']}/stats")
        t = s["total"]
        want_opened = sum(v["opened"] for v in expected.values())
        want_delivered = sum(v["delivered"] for v in expected.values())
        return s if (t["opened"], t["delivered"]) == (want_opened, want_delivered) else None

    stats = await wait_for(filled, timeout=60, what="Messaging's events in the stats")
    got = {(v["variant"], ch["channel"]): {"requested": ch["requested"],
                                           "skipped": ch["skipped"].get("NO_CONSENT", 0),
                                           "opened": ch["opened"], "delivered": ch["delivered"]}
           for v in stats["variants"] for ch in v["channels"]}
    assert got == expected
    by_variant = {v["variant"]: v for v in stats["variants"]}
    for name in ("A", "B"):
        email = next(ch for ch in by_variant[name]["channels"] if ch["channel"] == "EMAIL")
        assert email["openRate"] == round(expected[(name, "EMAIL")]["opened"] / email["requested"], 4)
        assert by_variant[name]["targeted"] == n // 4  # people, not messages
    total_sms = next(ch for ch in stats["total"]["channels"] if ch["channel"] == "SMS")
    assert total_sms["requested"] == expected[("A", "SMS")]["requested"] + expected[("B", "SMS")]["requested"]
