"""Publishing on procrastinate against the fake platforms: once per connection, whatever goes wrong."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from social_testing import JPEG, OTHER, connected, headers, image, statuses, wait_post
from sqlalchemy import text

from fairway_social.fakes.server import FakePlatformsServer
from fairway_testkit.helpers import RunningService

POSTS = "/api/v1/social/posts"


async def _post(svc: RunningService, conns: list[str], body_text: str, **extra: object) -> dict:
    r = await svc.http.post(POSTS, headers=headers(), json={"connectionIds": conns, "text": body_text, **extra})
    assert r.status_code == 201, r.text
    return r.json()


async def _events(svc: RunningService, event_type: str) -> list[dict]:
    async with svc.runtime.sessionmaker() as session:  # type: ignore[misc]
        rows = (await session.execute(text("SELECT body FROM event_outbox WHERE event_type = :t ORDER BY id"),
                                      {"t": event_type})).scalars().all()
    import json

    return [json.loads(r)["payload"] for r in rows]


async def test_publish_now_publishes_once_on_each_platform(social: RunningService, fakes: FakePlatformsServer) -> None:
    conns = await connected(social, fakes, "facebook", "x", "instagram")
    post = await _post(social, list(conns.values()), "Club championship entries close Friday.",
                       hashtags=["StonehavenGolf"], link="https://stonehavengolf.co.uk/championship",
                       media=[image()])
    assert post["status"] == "DRAFT" and set(statuses(post).values()) == {"PENDING"}
    r = await social.http.post(f"{POSTS}/{post['id']}/publish-now", headers=headers())
    assert r.status_code == 200, r.text
    done = await wait_post(social, post["id"], lambda p: p["status"] == "PUBLISHED")
    for t in done["targets"]:
        assert t["platformPostId"] and t["url"].startswith("https://") and t["error"] is None
    assert len(fakes.state.posts_of("facebook")) == 1
    assert len(fakes.state.posts_of("x")) == 1 and len(fakes.state.posts_of("instagram")) == 1
    tweet = fakes.state.posts_of("x")[0]
    assert "#StonehavenGolf" in tweet.text and "https://stonehavengolf.co.uk/championship" in tweet.text
    assert len(tweet.media) == 1
    assert fakes.state.posts_of("facebook")[0].media  # the photo went with it
    published = await _events(social, "social.post.published")
    assert sorted(e["platform"] for e in published) == ["FACEBOOK", "INSTAGRAM", "X"]
    scheduled = await _events(social, "social.post.scheduled")
    assert scheduled[0]["postId"] == post["id"]
    # no token in any event
    tokens = [t.value for t in fakes.state.tokens.values()]
    async with social.runtime.sessionmaker() as session:  # type: ignore[misc]
        bodies = " ".join((await session.execute(text("SELECT body FROM event_outbox"))).scalars().all())
    assert not any(tok in bodies for tok in tokens)


async def test_per_platform_rules_name_the_platform_and_field(social: RunningService,
                                                              fakes: FakePlatformsServer) -> None:
    conns = await connected(social, fakes, "facebook", "x", "instagram")
    r = await social.http.post(POSTS, headers=headers(), json={
        "connectionIds": list(conns.values()), "text": "Fore! " * 60})
    assert r.status_code == 422
    problems = {(p["platform"], p["field"]) for p in r.json()["detail"]}
    assert problems == {("X", "text"), ("INSTAGRAM", "media")}
    r = await social.http.post(POSTS, headers=headers(), json={
        "connectionIds": [conns["x"]], "text": "Five photos", "media": [image() for _ in range(5)]})
    assert r.status_code == 422 and {(p["platform"], p["field"]) for p in r.json()["detail"]} == {("X", "media")}
    r = await social.http.post(POSTS, headers=headers(), json={
        "connectionIds": [conns["instagram"]], "text": "A png", "media": [image(content_type="image/png",
                                                                                 data=b"\x89PNG\r\n\x1a\n" + JPEG)]})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "media[0]"
    assert r.json()["detail"][0]["platform"] == "INSTAGRAM"
    r = await social.http.post(POSTS, headers=headers(), json={
        "connectionIds": [conns["facebook"]], "text": "x" * 63206 + "y", "hashtags": []})
    assert r.status_code == 422
    r = await social.http.post(POSTS, headers=headers(), json={
        "connectionIds": [conns["facebook"]], "text": "a" * 63206})
    assert r.status_code == 201
    r = await social.http.post(POSTS, headers=headers(), json={
        "connectionIds": [conns["x"]], "text": "not an image", "media": [image(data=b"GIF89a....")]})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "media[0].data"
    # a link counts 23 characters on X, whatever its length
    r = await social.http.post(POSTS, headers=headers(), json={
        "connectionIds": [conns["x"]], "text": "t" * 256, "link": "https://stonehavengolf.co.uk/" + "a" * 200})
    assert r.status_code == 201, r.text


async def test_a_timeout_is_unconfirmed_then_confirmed_never_posted_twice(social: RunningService,
                                                                          fakes: FakePlatformsServer) -> None:
    conns = await connected(social, fakes, "x")
    # X makes the post, then its answer stalls past our 2 s timeout
    await fakes.control("faults", {"platform": "x", "op": "publish", "kind": "timeout", "delay": 4})
    post = await _post(social, [conns["x"]], "Greens are being hollow-tined on Monday.")
    await social.http.post(f"{POSTS}/{post['id']}/publish-now", headers=headers())
    seen = await wait_post(social, post["id"], lambda p: statuses(p)["X"] in ("UNCONFIRMED", "PUBLISHED"))
    assert statuses(seen)["X"] == "UNCONFIRMED" or fakes.state.count("x", "lookup") > 0
    done = await wait_post(social, post["id"], lambda p: p["status"] == "PUBLISHED")
    assert len(fakes.state.posts_of("x")) == 1
    assert fakes.state.count("x", "publish") == 1  # checked, never sent again
    assert done["targets"][0]["platformPostId"] == fakes.state.posts_of("x")[0].id


async def test_an_attempt_that_never_arrived_is_made_again_after_checking(social: RunningService,
                                                                          fakes: FakePlatformsServer) -> None:
    conns = await connected(social, fakes, "facebook")
    # the request is lost: nothing is made, the answer never comes
    await fakes.control("faults", {"platform": "facebook", "op": "publish", "kind": "drop", "delay": 4})
    post = await _post(social, [conns["facebook"]], "Course closed for frost this morning.")
    await social.http.post(f"{POSTS}/{post['id']}/publish-now", headers=headers())
    done = await wait_post(social, post["id"], lambda p: p["status"] == "PUBLISHED", timeout=40)
    assert len(fakes.state.posts_of("facebook")) == 1
    assert fakes.state.count("facebook", "lookup") >= 1  # it asked before posting again
    assert done["targets"][0]["attempts"] == 2


async def test_accepted_but_reported_failed_is_found_not_duplicated(social: RunningService,
                                                                    fakes: FakePlatformsServer) -> None:
    conns = await connected(social, fakes, "x")
    await fakes.control("faults", {"platform": "x", "op": "publish", "kind": "accept_then_fail"})
    post = await _post(social, [conns["x"]], "Junior open results are in.")
    await social.http.post(f"{POSTS}/{post['id']}/publish-now", headers=headers())
    await wait_post(social, post["id"], lambda p: p["status"] == "PUBLISHED")
    assert len(fakes.state.posts_of("x")) == 1


async def test_rate_limit_waits_for_the_platforms_reset(social: RunningService, fakes: FakePlatformsServer) -> None:
    conns = await connected(social, fakes, "x")
    await fakes.control("faults", {"platform": "x", "op": "publish", "kind": "rate_limit", "resetIn": 3})
    post = await _post(social, [conns["x"]], "Twilight golf every Wednesday in summer.")
    asked_at = time.time()
    await social.http.post(f"{POSTS}/{post['id']}/publish-now", headers=headers())
    waiting = await wait_post(social, post["id"], lambda p: bool(p["targets"][0]["notBefore"]))
    assert "rate limit" in waiting["targets"][0]["waitReason"]
    await wait_post(social, post["id"], lambda p: p["status"] == "PUBLISHED", timeout=30)
    [made] = fakes.state.posts_of("x")
    assert made.created_at >= asked_at + 2  # not before the reset X announced (second precision)
    assert datetime.fromisoformat(waiting["targets"][0]["notBefore"]) > datetime.now(UTC) - timedelta(seconds=10)


async def test_rejected_content_fails_with_the_platforms_reason_and_retry_works(
        social: RunningService, fakes: FakePlatformsServer) -> None:
    conns = await connected(social, fakes, "facebook")
    await fakes.control("faults", {"platform": "facebook", "op": "publish", "kind": "reject"})
    post = await _post(social, [conns["facebook"]], "Members' bar opens at noon.")
    await social.http.post(f"{POSTS}/{post['id']}/publish-now", headers=headers())
    failed = await wait_post(social, post["id"], lambda p: p["status"] == "FAILED")
    assert "deemed abusive" in failed["targets"][0]["error"]
    assert (await _events(social, "social.post.failed"))[0]["error"] == failed["targets"][0]["error"]
    r = await social.http.post(f"{POSTS}/{post['id']}/retry", headers=headers())
    assert r.status_code == 200, r.text
    await wait_post(social, post["id"], lambda p: p["status"] == "PUBLISHED")
    assert len(fakes.state.posts_of("facebook")) == 1


async def test_schedule_reschedule_and_cancel(social: RunningService, fakes: FakePlatformsServer) -> None:
    conns = await connected(social, fakes, "x")
    later = datetime.now(UTC) + timedelta(hours=2)
    post = await _post(social, [conns["x"]], "Spring fourball draw published.", scheduledAt=later.isoformat())
    assert post["status"] == "SCHEDULED" and statuses(post) == {"X": "SCHEDULED"}
    async with social.runtime.sessionmaker() as session:  # type: ignore[misc]
        [(job_at,)] = (await session.execute(text("SELECT scheduled_at FROM procrastinate_jobs "
                                                  "WHERE task_name = 'social.publish'"))).all()
    assert abs((job_at - later).total_seconds()) < 1
    soon = datetime.now(UTC) + timedelta(seconds=1)
    r = await social.http.patch(f"{POSTS}/{post['id']}", headers=headers(), json={"scheduledAt": soon.isoformat()})
    assert r.status_code == 200, r.text
    async with social.runtime.sessionmaker() as session:  # type: ignore[misc]
        jobs = (await session.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = "
                                           "'social.publish' AND status = 'todo'"))).scalar_one()
    assert jobs <= 1  # moved, not doubled
    await wait_post(social, post["id"], lambda p: p["status"] == "PUBLISHED")
    assert len(fakes.state.posts_of("x")) == 1

    other = await _post(social, [conns["x"]], "Captain's drive-in.", scheduledAt=later.isoformat())
    r = await social.http.post(f"{POSTS}/{other['id']}/cancel", headers=headers())
    assert r.status_code == 200 and r.json()["status"] == "CANCELLED"
    async with social.runtime.sessionmaker() as session:  # type: ignore[misc]
        left = (await session.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' "
                                           "AND task_name = 'social.publish'"))).scalar_one()
    assert left == 0


async def test_posts_are_per_tenant(social: RunningService, fakes: FakePlatformsServer) -> None:
    conns = await connected(social, fakes, "x")
    post = await _post(social, [conns["x"]], "Ladies' section AGM on Tuesday.")
    assert (await social.http.get(f"{POSTS}/{post['id']}", headers=headers(OTHER))).status_code == 404
    assert (await social.http.post(f"{POSTS}/{post['id']}/publish-now", headers=headers(OTHER))).status_code == 404
    assert (await social.http.get(POSTS, headers=headers(OTHER))).json()["items"] == []
    # another tenant cannot post on this tenant's connection
    r = await social.http.post(POSTS, headers=headers(OTHER), json={"connectionIds": [conns["x"]], "text": "hi"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "connectionIds[0]"
