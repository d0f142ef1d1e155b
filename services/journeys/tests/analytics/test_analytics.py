"""Analytics per version and step, rule-based suggestions from them, and generation with its template fallback."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness import Harness, fairway_event, member, upstream
from samples import lapsed

from fairway_events.contracts.dispatch import DispatchOutcomeRecorded, DispatchSource
from fairway_events.contracts.segmentation import SegmentMemberEntered
from fairway_journeys.analytics import service
from fairway_journeys.app import create_app
from fairway_journeys.definitions.model import Definition
from fairway_testkit.helpers import auth_headers, run_service

T = "stonehaven"


async def test_funnel_exits_conversions_and_suggestions(harness: Harness) -> None:
    jid = await harness.journey(T, "Lapsed golfer", lapsed())
    people = [(f"p-{i:02d}", f"lapsed{i:02d}@stonehavengolf.co.uk") for i in range(40)]
    for p, e in people:
        await harness.feed(fairway_event(member(p, e), T, p), fairway_event(SegmentMemberEntered(
            segmentId="seg-lapsed", segmentName="Lapsed golfers", profileId=p, at=harness.clock.now()), T, "seg"))
    sends = await harness.rows("SELECT request_id, profile_id FROM sends")
    await harness.feed(*(fairway_event(DispatchOutcomeRecorded(
        requestId=s.request_id, profileId=s.profile_id, channel="EMAIL", outcome="REQUESTED",
        source=DispatchSource(kind="JOURNEY", id=jid), at=harness.clock.now()), T, s.profile_id) for s in sends))
    # 3 of 40 open the email (a poor open rate); 12 unsubscribe while waiting; 5 book (the goal).
    email = dict(people)
    await harness.feed(*(upstream("messaging.email.opened", T, {"email": email[s.profile_id]},
                                  {"messageId": f"m-{i}", "sendRequestId": s.request_id})
                         for i, s in enumerate(sends[:3])))
    await harness.feed(*(upstream("messaging.unsubscribed", T, {"email": email[p]}, {"channel": "EMAIL"})
                         for p, _ in people[3:15]))
    await harness.feed(*(upstream("teetime.booking.created", T, {"email": email[p]}, {"bookingId": f"BK-{p}"},
                                  at=harness.clock.now()) for p, _ in people[15:20]))

    async with harness.sessions() as s:
        stats = await service.analytics(s, T, jid)
    v1 = stats.versions[0]
    assert (v1.entered, v1.converted, v1.exited, v1.active, v1.completed) == (40, 5, {"UNSUBSCRIBED": 12}, 20, 3)
    assert [s.stepId for s in v1.steps] == ["miss-you", "opened", "end"]  # in definition order: the funnel
    opened = v1.steps[1]
    assert (opened.entered, opened.waitingNow, opened.exited, opened.converted) == (40, 20, {"UNSUBSCRIBED": 12}, 5)
    assert opened.branches == {"event": 3}
    send = v1.steps[0].sends
    assert send is not None and (send.delivered, send.opens, send.openRate) == (40, 3, 0.075)

    found = service.suggest(Definition.model_validate(lapsed()), v1)
    kinds = {(s.type, s.stepId) for s in found}
    assert ("TIMING", "opened") in kinds  # 12 of 40 dropped out during the WAIT
    assert ("CONTENT", "miss-you") in kinds  # 7.5 % opened
    timing = next(s for s in found if s.type == "TIMING")
    assert timing.evidence["dropOutRate"] == 0.3


async def test_generate_falls_back_to_the_closest_template(journeys_settings: Callable[..., Any]) -> None:
    headers = auth_headers(T, roles=("marketer",))
    async with run_service(create_app(journeys_settings(ai_timeout_seconds=1.0))) as svc:  # no gateway running
        r = await svc.http.post("/api/v1/journeys/generate", headers=headers, json={
            "goal": "Re-engage members who haven't booked in 60 days", "constraints": {"maxSteps": 6}})
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["source"], body["template"], body["journey"]["status"]) == ("TEMPLATE", "lapsed", "DRAFT")
        assert body["journey"]["definition"]["goal"]["eventType"] == "teetime.booking.created"
        r = await svc.http.post("/api/v1/journeys/generate", headers=headers, json={"goal": "Remind members to renew"})
        assert r.json()["template"] == "renewal"
        jid = body["journey"]["id"]
        r = await svc.http.get(f"/api/v1/journeys/{jid}/suggestions", headers=headers)
        assert r.status_code == 200 and r.json()["version"] is None  # a draft has no figures yet
        await svc.http.post(f"/api/v1/journeys/{jid}/activate", headers=headers)
        r = await svc.http.get(f"/api/v1/journeys/{jid}/suggestions", headers=headers)
        assert (r.json()["version"], r.json()["insightsSource"]) == (1, "UNAVAILABLE")
        r = await svc.http.get(f"/api/v1/journeys/{jid}/analytics", headers=headers)
        assert r.json()["versions"][0]["entered"] == 0
