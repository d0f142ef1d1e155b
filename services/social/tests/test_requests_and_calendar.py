"""Post requests from other services over the real broker; the content calendar and its iCalendar feed;
engagement fetched from the platforms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from icalendar import Calendar
from social_testing import OTHER, TENANT, connected, headers, wait_post
from sqlalchemy import text

from fairway_events import TopicNames, registry
from fairway_events.contracts.campaigns import CampaignCancelled, CampaignScheduled
from fairway_events.contracts.social_requests import SocialPostRequested
from fairway_social.engagement.service import refresh_tenant
from fairway_social.fakes.server import FakePlatformsServer
from fairway_testkit.helpers import RunningService, send_upstream, wait_for

POSTS = "/api/v1/social/posts"


async def _request(producer: AIOKafkaProducer, topics: TopicNames, payload: SocialPostRequested,
                   tenant: str = TENANT) -> None:
    env = registry.envelope(payload, tenant_id=tenant, aggregate_id=payload.requestId, source="campaigns")
    await producer.send_and_wait(topics("crm.social.requests"), env.to_wire(), key=payload.requestId.encode())


async def _posts(svc: RunningService, tenant: str = TENANT) -> list[dict]:
    return (await svc.http.get(POSTS, headers=headers(tenant))).json()["items"]


async def test_a_requested_post_is_published_once_per_request(social: RunningService, fakes: FakePlatformsServer,
                                                               producer: AIOKafkaProducer, topics: TopicNames) -> None:
    await connected(social, fakes, "facebook", "x")
    req = SocialPostRequested(requestId="campaign:spring-open:social", sourceKind="CAMPAIGN", sourceId="spring-open",
                              platforms=["X"], text="The Spring Open is on 14 March: enter now.",
                              hashtags=["#SpringOpen"])
    await _request(producer, topics, req)
    await _request(producer, topics, req)  # a producer retry: same request id
    [post] = await wait_for(lambda: _posts(social), timeout=60, what="the requested post")
    assert post["requestId"] == req.requestId and post["campaignId"] == "spring-open"
    assert [t["platform"] for t in post["targets"]] == ["X"]
    await wait_post(social, post["id"], lambda p: p["status"] == "PUBLISHED")
    assert len(fakes.state.posts_of("x")) == 1 and fakes.state.posts_of("facebook") == []
    # one that breaks X's rules still becomes a post, failed with the reason, so the requester hears why
    await _request(producer, topics, SocialPostRequested(requestId="promotion:long", sourceKind="PROMOTION",
                                                         sourceId="p1", platforms=["X"], text="Long " * 80))

    async def failed() -> list[dict]:
        return [p for p in await _posts(social) if p["requestId"] == "promotion:long" and p["status"] == "FAILED"]

    [bad] = await wait_for(failed, timeout=60, what="the refused request's post")
    assert "280" in bad["targets"][0]["error"]
    async with social.runtime.sessionmaker() as session:  # type: ignore[misc]
        n = (await session.execute(text("SELECT count(*) FROM event_outbox WHERE event_type = 'social.post.failed'"))
             ).scalar_one()
    assert n == 1


async def test_a_request_can_be_withdrawn_before_it_is_published(social: RunningService, fakes: FakePlatformsServer,
                                                                 producer: AIOKafkaProducer, topics: TopicNames) -> None:
    await connected(social, fakes, "x")
    later = datetime.now(UTC) + timedelta(days=2)
    req = SocialPostRequested(requestId="promotion:club-champs", sourceKind="PROMOTION", sourceId="club-champs",
                              text="Club championships next weekend.", scheduledAt=later)
    await _request(producer, topics, req)
    [post] = await wait_for(lambda: _posts(social), timeout=60, what="the requested post")
    assert post["status"] == "SCHEDULED" and post["promotionId"] == "club-champs"
    await _request(producer, topics, req.model_copy(update={"cancel": True}))

    async def cancelled() -> bool:
        return (await _posts(social))[0]["status"] == "CANCELLED"

    await wait_for(cancelled, timeout=60, what="the withdrawn request's post to be cancelled")


async def test_calendar_shows_posts_campaign_sends_and_competitions_in_the_tenants_zone(
        social: RunningService, fakes: FakePlatformsServer, producer: AIOKafkaProducer, topics: TopicNames) -> None:
    conns = await connected(social, fakes, "x")
    when = datetime(2031, 3, 14, 7, 30, tzinfo=UTC)
    post = (await social.http.post(POSTS, headers=headers(), json={
        "connectionIds": [conns["x"]], "text": "Spring Open tee times are out.\nBook early.",
        "scheduledAt": when.isoformat()})).json()
    send = CampaignScheduled(campaignId="cmp-spring", name="Spring Open newsletter", channels=["EMAIL", "SMS"],
                             scheduleKind="AT", startsAt=when + timedelta(days=1), by="marketing@stonehavengolf.co.uk")
    env = registry.envelope(send, tenant_id=TENANT, aggregate_id="cmp-spring", source="campaigns")
    await producer.send_and_wait(topics("crm.campaigns"), env.to_wire(), key=b"cmp-spring")
    other = registry.envelope(send, tenant_id=OTHER, aggregate_id="cmp-spring", source="campaigns")
    await producer.send_and_wait(topics("crm.campaigns"), other.to_wire(), key=b"cmp-spring")
    await send_upstream(producer, topics, "teetime.competition.published", TENANT, {}, {
        "competitionId": "comp-77", "name": "Spring Open", "startsAt": (when + timedelta(days=3)).isoformat(),
        "format": "Stableford"}, key="comp-77")

    async def month() -> list[dict]:
        r = await social.http.get("/api/v1/calendar", headers=headers(),
                                  params={"from": "2031-03-01", "to": "2031-04-01"})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        return items if len(items) == 3 else []

    items = await wait_for(month, timeout=60, what="three calendar entries")
    assert [i["kind"] for i in items] == ["SOCIAL_POST", "CAMPAIGN_SEND", "COMPETITION"]
    assert items[0]["id"] == post["id"] and items[0]["title"] == "Spring Open tee times are out."
    assert items[0]["start"].endswith("+02:00") and items[0]["start"].startswith("2031-03-14T09:30")
    assert items[1]["channels"] == ["EMAIL", "SMS"] and items[1]["status"] == "SCHEDULED"
    only_social = (await social.http.get("/api/v1/calendar", headers=headers(), params={
        "from": "2031-03-01", "to": "2031-04-01", "channel": "SOCIAL"})).json()["items"]
    assert [i["kind"] for i in only_social] == ["SOCIAL_POST"]
    theirs = (await social.http.get("/api/v1/calendar", headers=headers(OTHER), params={
        "from": "2031-03-01", "to": "2031-04-01"})).json()["items"]
    assert [i["kind"] for i in theirs] == ["CAMPAIGN_SEND"]

    cancel = CampaignCancelled(campaignId="cmp-spring", fromState="SCHEDULED", submitted=0,
                               cancelledAt=datetime.now(UTC), by="marketing@stonehavengolf.co.uk")
    env = registry.envelope(cancel, tenant_id=TENANT, aggregate_id="cmp-spring", source="campaigns")
    await producer.send_and_wait(topics("crm.campaigns"), env.to_wire(), key=b"cmp-spring")

    async def cancelled() -> bool:
        r = await social.http.get("/api/v1/calendar", headers=headers(), params={
            "from": "2031-03-01", "to": "2031-04-01", "status": "CANCELLED"})
        return [i["id"] for i in r.json()["items"]] == ["cmp-spring"]

    await wait_for(cancelled, timeout=60, what="the cancelled send")
    # rescheduling from the calendar moves the post (and its job)
    moved = await social.http.patch(f"{POSTS}/{post['id']}", headers=headers(),
                                    json={"scheduledAt": (when + timedelta(days=20)).isoformat()})
    assert moved.status_code == 200
    march = (await social.http.get("/api/v1/calendar", headers=headers(), params={
        "from": "2031-03-01", "to": "2031-04-01", "channel": "SOCIAL"})).json()["items"]
    april = (await social.http.get("/api/v1/calendar", headers=headers(), params={
        "from": "2031-04-01", "to": "2031-05-01", "channel": "SOCIAL"})).json()["items"]
    assert march == [] and [i["start"][:16] for i in april] == ["2031-04-03T09:30"]
    async with social.runtime.sessionmaker() as session:  # type: ignore[misc]
        jobs = (await session.execute(text("SELECT scheduled_at FROM procrastinate_jobs WHERE status = 'todo' "
                                           "AND task_name = 'social.publish'"))).scalars().all()
    assert jobs == [when + timedelta(days=20)]

    r = await social.http.get("/api/v1/calendar", headers=headers(), params={"from": "2031-03-02", "to": "2031-03-01"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "to"


async def test_the_ical_feed_is_read_only_behind_a_secret_url(social: RunningService, fakes: FakePlatformsServer) -> None:
    conns = await connected(social, fakes, "x")
    soon = datetime.now(UTC) + timedelta(days=1)
    await social.http.post(POSTS, headers=headers(), json={"connectionIds": [conns["x"]], "text": "Course open.",
                                                           "scheduledAt": soon.isoformat()})
    url = (await social.http.post("/api/v1/calendar/feed", headers=headers())).json()["url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    r = await social.http.get("/" + path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    assert [str(e["summary"]) for e in cal.walk("VEVENT")] == ["[SOCIAL] Course open."]
    assert (await social.http.get("/" + path.replace(TENANT, OTHER))).status_code == 404
    assert (await social.http.get("/" + path[:-10] + "xxxxxx.ics")).status_code == 404
    await social.http.post("/api/v1/calendar/feed", headers=headers())  # rotated: the old URL stops working
    assert (await social.http.get("/" + path)).status_code == 404


async def test_engagement_is_fetched_and_announced_when_it_changes(social: RunningService,
                                                                   fakes: FakePlatformsServer) -> None:
    conns = await connected(social, fakes, "facebook", "x")
    post = (await social.http.post(POSTS, headers=headers(), json={
        "connectionIds": list(conns.values()), "text": "Hole-in-one on the 7th today!"})).json()
    await social.http.post(f"{POSTS}/{post['id']}/publish-now", headers=headers())
    await wait_post(social, post["id"], lambda p: p["status"] == "PUBLISHED")
    await fakes.control("engagement", {"likes": 42, "comments": 7, "shares": 3, "impressions": 1800, "clicks": 25})
    st, sm = social.runtime.state, social.runtime.sessionmaker
    # (the 15-minute periodic round may run meanwhile: between it and these calls, each change is announced once)
    assert await refresh_tenant(sm, st, TENANT) <= 2
    assert await refresh_tenant(sm, st, TENANT) == 0  # unchanged: nothing announced again
    got = (await social.http.get(f"{POSTS}/{post['id']}", headers=headers())).json()
    for t in got["targets"]:
        assert t["engagement"]["likes"] == 42 and t["engagement"]["impressions"] == 1800
    fb = next(t for t in got["targets"] if t["platform"] == "FACEBOOK")
    assert fb["engagement"]["clicks"] == 25 and fb["engagement"]["shares"] == 3
    async with sm() as session:  # type: ignore[misc]
        n = (await session.execute(text("SELECT count(*) FROM event_outbox WHERE event_type = "
                                        "'social.post.engagement_updated'"))).scalar_one()
    assert n == 2
