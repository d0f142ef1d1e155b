"""The demo club's marketer plans its campaigns after `make up`; the newsletter goes out through dispatch and the
Messaging simulator's answers fill in its results."""
from __future__ import annotations

from typing import Any

import httpx

from fairway_testkit import wait_for

from .conftest import Platform


async def test_demo_club_campaigns_send_and_results_fill_in(platform: Platform) -> None:
    headers = {"Authorization": f"Bearer {platform.token('demo', 'marketer')}"}
    base = f"{platform.url('campaigns')}/api/v1/campaigns"
    async with httpx.AsyncClient(timeout=10, headers=headers) as client:
        async def planned() -> list[dict[str, Any]] | None:
            items = (await client.get(base)).json()["items"]
            return items if len(items) >= 3 and all(c["state"] != "DRAFT" for c in items) else None

        campaigns = await wait_for(planned, timeout=600, interval=2, what="the demo marketer's campaigns")
        by_kind = {c["schedule"]["kind"]: c for c in campaigns}
        assert set(by_kind) == {"NOW", "LOCAL_TIME", "AT"} and by_kind["AT"]["abTest"] is not None
        assert by_kind["LOCAL_TIME"]["state"] == "SCHEDULED"
        newsletter = by_kind["NOW"]["id"]

        async def results() -> dict[str, Any] | None:
            stats = (await client.get(f"{base}/{newsletter}/stats")).json()
            t = stats["total"]
            # Messaging answers what went out; at night dispatch holds e-mail for the morning (quiet hours).
            return stats if stats["state"] == "COMPLETED" and (t["delivered"] > 0 or t["held"] > 0) else None

        stats = await wait_for(results, timeout=300, interval=2, what="the newsletter's results")
        assert stats["total"]["targeted"] == stats["audienceSize"] > 0
