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
