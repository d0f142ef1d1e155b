"""Factories and a client of the campaign API for the campaigns tests."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fairway_campaigns.settings import Settings
from fairway_testkit import RunningService, auth_headers

TENANT = "stonehaven"
OTHER = "fairwaygolf"
MARKETER = ("marketer",)


def campaign_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "December newsletter",
        "goal": "Fill the midweek tee sheet",
        "channels": ["EMAIL"],
        "targetSegmentId": "seg-active-members",
        "content": {"EMAIL": {"subject": "Winter golf at Stonehaven", "body": "Midweek rounds are 20% off."}},
        "schedule": {"kind": "AT", "at": (datetime.now(UTC) + timedelta(days=3)).isoformat()},
    }
    body.update(overrides)
    return body


def fast_jobs(settings_for: Callable[..., Settings], **overrides: Any) -> Settings:
    return settings_for(Settings, jobs_heartbeat_seconds=0.3, jobs_stalled_seconds=1.5, jobs_poll_seconds=0.2,
                        jobs_shutdown_seconds=1, **overrides)


class Api:
    """The campaign API as a marketer of one tenant calls it."""

    def __init__(self, svc: RunningService, tenant: str = TENANT, roles: tuple[str, ...] = MARKETER) -> None:
        self.svc = svc
        self.headers = auth_headers(tenant, roles)

    async def create(self, **overrides: Any) -> dict[str, Any]:
        r = await self.svc.http.post("/api/v1/campaigns", json=campaign_body(**overrides), headers=self.headers)
        assert r.status_code == 201, r.text
        return r.json()

    async def action(self, campaign_id: str, action: str, expect: int = 200) -> dict[str, Any]:
        r = await self.svc.http.post(f"/api/v1/campaigns/{campaign_id}/{action}", headers=self.headers)
        assert r.status_code == expect, r.text
        return r.json()

    async def get(self, path: str, expect: int = 200, **params: Any) -> Any:
        r = await self.svc.http.get(f"/api/v1/campaigns{path}", headers=self.headers, params=params)
        assert r.status_code == expect, r.text
        return r.json()
