"""A real crash: the service process is SIGKILLed while the platform is creating a post, then started again.
Nothing is published twice and nothing is lost."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from social_testing import consent, headers

from fairway_social.crypto import TokenCipher
from fairway_social.fakes.server import FakePlatformsServer, free_port
from fairway_social.settings import Settings
from fairway_testkit.helpers import TEST_JWT_SECRET, wait_for

POSTS = "/api/v1/social/posts"


@asynccontextmanager
async def _service(env: dict[str, str], port: int, log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    out = log.open("ab")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fairway_social", env={**os.environ, **env, "FAIRWAY_SOCIAL_PORT": str(port)},
        stdout=out, stderr=out)
    try:
        async with httpx.AsyncClient() as client:
            async def ready() -> bool:
                if proc.returncode is not None:
                    raise AssertionError(f"the social service exited:\n{log.read_text()[-3000:]}")
                try:
                    return (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await wait_for(ready, timeout=120, interval=0.3, what="the social service to start")
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        out.close()


async def test_killed_mid_publish_publishes_nothing_twice_and_loses_nothing(
        settings_for: Callable[..., Any], fakes: FakePlatformsServer, kafka_bootstrap: str, tmp_path: Path) -> None:
    s = settings_for(Settings, token_keys=[TokenCipher.generate_key("k1")], state_secret="state-" + "s" * 40)
    log = tmp_path / "social.log"
    env = {
        "FAIRWAY_SOCIAL_DATABASE_URL": s.database_url, "FAIRWAY_SOCIAL_DATABASE_NAME": s.db_name,
        "FAIRWAY_KAFKA_BOOTSTRAP": kafka_bootstrap, "FAIRWAY_TOPIC_PREFIX": s.topic_prefix,
        "FAIRWAY_JWT_SECRET": TEST_JWT_SECRET, "FAIRWAY_SOCIAL_TOKEN_KEYS": s.token_keys[0],
        "FAIRWAY_SOCIAL_STATE_SECRET": s.state_secret or "", "FAIRWAY_SOCIAL_LOG_LEVEL": "WARNING",
        "FAIRWAY_SOCIAL_FACEBOOK_AUTH_URL": fakes.url, "FAIRWAY_SOCIAL_FACEBOOK_GRAPH_URL": fakes.url,
        "FAIRWAY_SOCIAL_X_AUTH_URL": fakes.url, "FAIRWAY_SOCIAL_X_API_URL": fakes.url,
        "FAIRWAY_SOCIAL_PLATFORM_TIMEOUT_SECONDS": "60", "FAIRWAY_SOCIAL_UNCONFIRMED_CHECK_SECONDS": "0.5",
        "FAIRWAY_SOCIAL_UNCONFIRMED_SETTLE_SECONDS": "3", "FAIRWAY_SOCIAL_JOBS_POLL_SECONDS": "0.2",
        "FAIRWAY_SOCIAL_JOBS_HEARTBEAT_SECONDS": "0.5", "FAIRWAY_SOCIAL_JOBS_STALLED_SECONDS": "2",
        "FAIRWAY_SOCIAL_KAFKA_SESSION_TIMEOUT_MS": "3000",
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    texts = [f"Autumn medal, round {i}: tee times are open." for i in range(4)]
    # The first post X receives is made, and then its answer never comes before the process dies.
    await fakes.control("faults", {"platform": "x", "op": "publish", "kind": "timeout", "delay": 15})
    async with _service(env, port, log) as proc, httpx.AsyncClient(base_url=base, headers=headers()) as api:
        conns = []
        for platform in ("facebook", "x"):
            r = await api.post(f"/api/v1/social/connections/{platform}/authorize")
            r = await api.post(f"/api/v1/social/connections/{platform}/callback",
                               json=await consent(r.json()["authorizationUrl"]))
            conns.append(r.json()["connections"][0]["id"])
        ids = []
        for t in texts:
            post = (await api.post(POSTS, json={"connectionIds": conns, "text": t})).json()
            ids.append(post["id"])
            await api.post(f"{POSTS}/{post['id']}/publish-now")

        async def x_made_one() -> bool:
            return fakes.state.count("x", "publish") >= 1

        await wait_for(x_made_one, timeout=60, what="X to create the first post")
        proc.send_signal(signal.SIGKILL)  # the platform made the post; its answer is never recorded
        await proc.wait()
    assert len(fakes.state.posts_of("x")) >= 1  # the post whose answer was lost exists on X

    async with _service(env, port, log), httpx.AsyncClient(base_url=base, headers=headers()) as api:
        left: list[Any] = []

        async def all_published() -> bool:
            posts = [(await api.get(f"{POSTS}/{i}")).json() for i in ids]
            left[:] = [(t["platform"], t["status"], t["waitReason"], t["error"]) for p in posts for t in p["targets"]
                       if t["status"] != "PUBLISHED"]
            return not left

        try:
            await wait_for(all_published, timeout=90, interval=0.5, what="every post to be published after restart")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; not published: {left}; log:\n{log.read_text()[-3000:]}") from None
        for platform in ("x", "facebook"):
            made = sorted(p.text for p in fakes.state.posts_of(platform))  # type: ignore[arg-type]
            assert made == sorted(texts), f"{platform}: {made}"
        # the stalled attempt was checked against X, not sent again
        assert fakes.state.count("x", "lookup") >= 1
