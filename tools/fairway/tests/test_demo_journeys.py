"""`make up`'s demo journeys, created through segmentation's and journeys' APIs (both apps running in-process),
twice: the second run finds what the first made."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import httpx

from fairway_cli.demo_journeys import seed
from fairway_journeys.app import create_app as journeys_app
from fairway_journeys.settings import Settings as JourneysSettings
from fairway_segmentation.app import create_app as segmentation_app
from fairway_segmentation.settings import Settings as SegmentationSettings
from fairway_testkit import TEST_JWT_SECRET, auth_headers, run_service


async def test_demo_journeys_are_seeded_once(settings_for: Callable[..., Any], database_name: str,
                                             pg_server_url: str) -> None:
    seg_db = f"{database_name}_seg"  # each service owns its database
    try:
        await _both(settings_for, seg_db)
    finally:
        conn = await asyncpg.connect(pg_server_url.replace("+asyncpg", ""))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{seg_db}" WITH (FORCE)')
        finally:
            await conn.close()


async def _both(settings_for: Callable[..., Any], seg_db: str) -> None:
    async with (run_service(segmentation_app(settings_for(SegmentationSettings, database_name=seg_db))) as seg,
                run_service(journeys_app(settings_for(JourneysSettings))) as jrn):
        mounts = {"http://segmentation": httpx.ASGITransport(app=seg.app),
                  "http://journeys": httpx.ASGITransport(app=jrn.app)}
        first = await seed(TEST_JWT_SECRET, "demo", "http://segmentation", "http://journeys", mounts)
        again = await seed(TEST_JWT_SECRET, "demo", "http://segmentation", "http://journeys", mounts)
        assert first == again and len(first) == 2
        items = (await jrn.http.get("/api/v1/journeys", headers=auth_headers("demo", ["marketer"]))).json()["items"]
        assert sorted((j["name"], j["status"], j["activeVersion"]) for j in items) == [
            ("Lapsed golfer re-engagement", "ACTIVE", 1), ("Welcome series for new members", "ACTIVE", 1)]
        lapsed = next(j for j in items if j["name"].startswith("Lapsed"))
        segments = (await seg.http.get("/api/v1/segments", headers=auth_headers("demo", ["marketer"]))).json()["items"]
        assert [s["name"] for s in segments] == ["Lapsed golfers"]
        assert lapsed["definition"]["trigger"]["segmentId"] == segments[0]["id"]
