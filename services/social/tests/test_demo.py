"""The demo club's social accounts, as `make up` seeds them."""

from __future__ import annotations

from social_testing import headers

from fairway_social.demo import POSTS, seed
from fairway_social.fakes.server import FakePlatformsServer
from fairway_testkit.helpers import RunningService


async def test_demo_connects_facebook_and_x_and_schedules_posts_once(social: RunningService,
                                                                     fakes: FakePlatformsServer) -> None:
    social.http.headers.update(headers("demo", roles=("admin",)))
    assert "posts scheduled" in await seed(social.http)
    assert "already there" in await seed(social.http)  # `make up` twice keeps what is there
    conns = (await social.http.get("/api/v1/social/connections")).json()["items"]
    assert sorted(c["platform"] for c in conns) == ["FACEBOOK", "X"]
    posts = (await social.http.get("/api/v1/social/posts")).json()["items"]
    assert len(posts) == len(POSTS) and {p["status"] for p in posts} == {"SCHEDULED"}
