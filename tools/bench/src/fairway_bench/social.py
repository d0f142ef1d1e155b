"""`python -m fairway_bench.social`: scheduled posts falling due together, published through procrastinate to the
fake platforms. Prints figures; asserts nothing.

N_POSTS posts, each on a Facebook page and an X account (connected through the OAuth round trip), are created and
scheduled through the API for tomorrow, then all moved to LEAD seconds from now (posts, targets and their waiting
procrastinate jobs, as a reschedule moves them) so they fall due together. The service's worker publishes them; per target, lag = published_at -
scheduled_at. Also counted: posts made twice on the platforms (must be 0) and targets left unpublished. The fake
platforms run in the benchmark's process, so they share its CPU with the service: the figures are a floor.
"""
from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from fairway_bench.benchkit import bench_env, percentile, report
from fairway_chassis.auth import issue_token
from fairway_chassis.gc_tuning import tune_gc
from fairway_events import TopicNames
from fairway_events.kafka import create_topics
from fairway_social.app import create_app
from fairway_social.crypto import TokenCipher
from fairway_social.fakes.server import FakePlatformsServer
from fairway_social.settings import Settings
from fairway_testkit import TEST_JWT_SECRET

TENANT = "bench-club"
N_POSTS = 300
LEAD = 5  # seconds from moving the schedule to the moment every post falls due


async def _connect(api: httpx.AsyncClient, platform: str) -> str:
    url = (await api.post(f"/api/v1/social/connections/{platform}/authorize")).json()["authorizationUrl"]
    async with httpx.AsyncClient() as browser:
        back = await browser.get(url, follow_redirects=False)
    q = {k: v[0] for k, v in parse_qs(urlparse(back.headers["location"]).query).items()}
    r = await api.post(f"/api/v1/social/connections/{platform}/callback", json={"code": q["code"], "state": q["state"]})
    r.raise_for_status()
    return r.json()["connections"][0]["id"]


async def main() -> None:
    tune_gc()
    async with bench_env() as env, FakePlatformsServer() as fakes:
        db = await env.fresh_database("social")
        base, _, name = db.rpartition("/")
        prefix = f"bench{int(time.time())}."
        await create_topics(env.bootstrap, TopicNames(prefix))
        settings = Settings(
            database_url=f"{base}/postgres", database_name=name, kafka_bootstrap=env.bootstrap, topic_prefix=prefix,
            jwt_secret=TEST_JWT_SECRET, log_level="WARNING", token_keys=[TokenCipher.generate_key("k1")],
            state_secret="bench-" + "s" * 40, facebook_auth_url=fakes.url, facebook_graph_url=fakes.url,
            x_auth_url=fakes.url, x_api_url=fakes.url, jobs_concurrency=8, jobs_poll_seconds=0.5)
        app = create_app(settings)
        token = issue_token(TEST_JWT_SECRET, tenant=TENANT, roles=["admin"], subject="bench@stonehavengolf.co.uk")
        async with LifespanManager(app, startup_timeout=240, shutdown_timeout=60), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench",
                headers={"Authorization": f"Bearer {token}"}, timeout=60) as api:
            conns = [await _connect(api, "facebook"), await _connect(api, "x")]
            tomorrow = datetime.now(UTC) + timedelta(days=1)
            started = time.perf_counter()
            for i in range(N_POSTS):
                r = await api.post("/api/v1/social/posts", json={
                    "connectionIds": conns, "text": f"Tee sheet update {i}: the course is open from 07:00.",
                    "scheduledAt": tomorrow.isoformat()})
                r.raise_for_status()
            report("social: create and schedule a post on 2 accounts (HTTP, sequential)",
                   N_POSTS / (time.perf_counter() - started), "posts/s")
            targets = 2 * N_POSTS
            due = datetime.now(UTC) + timedelta(seconds=LEAD)
            async with app.state.runtime.sessionmaker() as s, s.begin():
                await s.execute(text("UPDATE posts SET scheduled_at = :due"), {"due": due})
                await s.execute(text("UPDATE post_targets SET not_before = :due"), {"due": due})
                await s.execute(text("UPDATE procrastinate_jobs SET scheduled_at = :due WHERE status = 'todo' "
                                     "AND task_name = 'social.publish'"), {"due": due})

            async def published() -> int:
                async with app.state.runtime.sessionmaker() as s:
                    return (await s.execute(text("SELECT count(*) FROM post_targets WHERE status = 'PUBLISHED'"))
                            ).scalar_one()

            deadline = time.monotonic() + LEAD + 600
            while time.monotonic() < deadline:
                if await published() >= targets:
                    break
                await asyncio.sleep(0.5)
            async with app.state.runtime.sessionmaker() as s:
                rows = (await s.execute(text(
                    "SELECT extract(epoch FROM t.published_at - p.scheduled_at) FROM post_targets t "
                    "JOIN posts p ON p.id = t.post_id WHERE t.status = 'PUBLISHED'"))).scalars().all()
            lags = [float(x) for x in rows]
            span = max(lags) if lags else float("nan")
            report("social: targets published after falling due together", targets / span if lags else 0.0,
                   "targets/s", "none in the issue")
            report("social: due -> published lag p50", percentile(lags, 50), "s")
            report("social: due -> published lag p99", percentile(lags, 99), "s")
            made = len(fakes.state.posts_of("facebook")) + len(fakes.state.posts_of("x"))
            report("social: posts made twice on the platforms", max(0, made - len(lags)), "posts", "0")
            report("social: targets left unpublished", targets - len(lags), "targets", "0")


if __name__ == "__main__":
    asyncio.run(main())
