"""python -m fairway_social.demo: the demo club's social accounts (`make up` runs it once the service is ready).

Connects the fake Facebook page and X account through the real OAuth round trip (authorize, consent at the fake
platform, callback) and schedules a few posts, unless the tenant has connections already (running `make up`
twice keeps what is there).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx

from fairway_chassis import issue_token

POSTS = [
    ("Tee sheet for Saturday's monthly medal is open. Book your time in the app.", ["MonthlyMedal"], 1),
    ("Greens are being hollow-tined on Monday 08:00-12:00; the course reopens at noon.", ["CourseUpdate"], 3),
    ("Junior golf clinic every Wednesday at 16:00 with our head pro. All abilities welcome!", ["JuniorGolf"], 6),
]


async def seed(api: httpx.AsyncClient) -> str:
    """`api`: a client of the social service carrying an admin token of the demo tenant."""
    async with httpx.AsyncClient(timeout=30) as browser:
        existing = (await api.get("/api/v1/social/connections")).raise_for_status().json()["items"]
        if existing:
            return f"social demo: {len(existing)} connections already there"
        conns = []
        for platform in ("facebook", "x"):
            r = (await api.post(f"/api/v1/social/connections/{platform}/authorize")).raise_for_status()
            back = await browser.get(r.json()["authorizationUrl"], follow_redirects=False)
            q = {k: v[0] for k, v in parse_qs(urlparse(back.headers["location"]).query).items()}
            r = await api.post(f"/api/v1/social/connections/{platform}/callback",
                               json={"code": q["code"], "state": q["state"]})
            conns += [c["id"] for c in r.raise_for_status().json()["connections"]]
        now = datetime.now(UTC)
        for text, tags, days in POSTS:
            at = (now + timedelta(days=days)).replace(hour=7, minute=0, second=0, microsecond=0)
            (await api.post("/api/v1/social/posts", json={"connectionIds": conns, "text": text, "hashtags": tags,
                                                          "scheduledAt": at.isoformat()})).raise_for_status()
        return f"social demo: connected Facebook and X, {len(POSTS)} posts scheduled"


async def _run(url: str, tenant: str, secret: str) -> str:
    token = issue_token(secret, tenant=tenant, roles=["admin"], subject="demo@stonehavengolf.co.uk", ttl_seconds=600)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
        return await seed(api)


def main() -> None:
    parser = argparse.ArgumentParser(description="Connect the demo club's fake social accounts and schedule posts")
    parser.add_argument("--url", default="http://127.0.0.1:8006")
    parser.add_argument("--tenant", default="demo")
    args = parser.parse_args()
    print(asyncio.run(_run(args.url, args.tenant, os.environ["FAIRWAY_JWT_SECRET"])))


if __name__ == "__main__":
    main()
