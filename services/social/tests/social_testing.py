"""Helpers the social tests share (imported by name: conftest puts this folder on sys.path)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlparse

import httpx

from fairway_social.fakes.server import FakePlatformsServer
from fairway_testkit.helpers import RunningService, auth_headers

TENANT = "stonehaven"
OTHER = "fairwaygolf"
USER = "morag@stonehavengolf.co.uk"


def headers(tenant: str = TENANT, user: str = USER, roles: tuple[str, ...] = ("marketer",)) -> dict[str, str]:
    return auth_headers(tenant, roles, subject=user)


async def connect(svc: RunningService, fakes: FakePlatformsServer, platform: str, *, tenant: str = TENANT,
                  user: str = USER) -> httpx.Response:
    """The whole OAuth round trip as a browser and the frontend make it: authorize, follow the consent URL to the
    platform (which redirects back with a code), post code and state to the callback."""
    r = await svc.http.post(f"/api/v1/social/connections/{platform}/authorize", headers=headers(tenant, user))
    assert r.status_code == 200, r.text
    back = await consent(r.json()["authorizationUrl"])
    return await svc.http.post(f"/api/v1/social/connections/{platform}/callback", headers=headers(tenant, user),
                               json={"code": back["code"], "state": back["state"]})


async def consent(url: str) -> dict[str, str]:
    async with httpx.AsyncClient() as browser:
        r = await browser.get(url, follow_redirects=False)
    assert r.status_code == 302, r.text
    return {k: v[0] for k, v in parse_qs(urlparse(r.headers["location"]).query).items()}


Connect = Callable[..., Awaitable[httpx.Response]]


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4  # starts as a JPEG does
PNG = b"\x89PNG\r\n\x1a\n" + bytes(512)


def image(data: bytes = JPEG, content_type: str = "image/jpeg", name: str = "fairway.jpg") -> dict[str, str]:
    import base64

    return {"filename": name, "contentType": content_type, "data": base64.b64encode(data).decode()}


async def connected(svc: RunningService, fakes: FakePlatformsServer, *platforms: str,
                    tenant: str = TENANT) -> dict[str, str]:
    """platform -> connection id, connected through the real OAuth round trip."""
    out = {}
    for p in platforms:
        r = await connect(svc, fakes, p, tenant=tenant)
        assert r.status_code == 200, r.text
        out[p] = r.json()["connections"][0]["id"]
    return out


async def wait_post(svc: RunningService, post_id: str, done: Callable[[dict], bool], *, tenant: str = TENANT,
                    timeout: float = 60, what: str = "post state") -> dict:
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        r = await svc.http.get(f"/api/v1/social/posts/{post_id}", headers=headers(tenant))
        body = r.json()
        if done(body):
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {body}")
        await asyncio.sleep(0.1)


def statuses(post: dict) -> dict[str, str]:
    return {t["platform"]: t["status"] for t in post["targets"]}
