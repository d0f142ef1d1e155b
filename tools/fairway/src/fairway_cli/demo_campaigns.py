"""The demo club's marketer: once the club's history is in, it builds an "Active members" segment and plans this
month's newsletter (sent now), next month's (the 1st at 08:00 in each member's time zone) and an A/B-tested offer
(in a few minutes), turns on auto-promotion for the club's competitions and promotes the Club Championship, through
the same HTTP APIs a person uses. The Messaging simulator answers the send requests and the TeeTime simulator keeps
entries coming, so the campaigns' and the promotion's results fill in while the platform runs."""
from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from fairway_chassis.auth import issue_token
from fairway_cli.competitions import competition

ACTIVE_MEMBERS = {"combinator": "AND", "rules": [{"field": "membershipStatus", "operator": "eq", "value": "ACTIVE"}]}


def _first_of_next_month(today: date) -> date:
    return (today.replace(day=1) + timedelta(days=32)).replace(day=1)


def demo_campaigns(segment_id: str, now: datetime) -> list[dict[str, Any]]:
    month = now.strftime("%B")
    return [
        {"name": f"{month} newsletter", "goal": "Keep members playing through the month",
         "channels": ["EMAIL"], "targetSegmentId": segment_id,
         "content": {"EMAIL": {"subject": f"What's on at the club in {month}",
                               "body": "Course news, the competition calendar and this month's member offers."}},
         "schedule": {"kind": "NOW"}},
        {"name": f"{_first_of_next_month(now.date()):%B} newsletter", "goal": "Keep members playing",
         "channels": ["EMAIL"], "targetSegmentId": segment_id,
         "content": {"EMAIL": {"subject": "Next month at the club", "body": "Fixtures, course works and offers."}},
         "schedule": {"kind": "LOCAL_TIME", "date": _first_of_next_month(now.date()).isoformat(),
                      "localTime": "08:00"}},
        {"name": "Midweek winter rates", "goal": "Fill midweek tee times", "channels": ["EMAIL"],
         "targetSegmentId": segment_id,
         "content": {"EMAIL": {"subject": "Midweek winter rates", "body": "Play Tuesday to Thursday for less."}},
         "abTest": {"variants": [{"name": "A", "subject": "Your midweek tee time is waiting"},
                                 {"name": "B", "subject": "Winter rates for members"}],
                    "testShare": 0.4, "metric": "OPEN_RATE", "durationHours": 0.1, "noWinner": "SEND_BEST"},
         "schedule": {"kind": "AT", "at": (now + timedelta(minutes=3)).isoformat()}},
    ]


def demo_promotion(now: datetime) -> dict[str, Any]:
    """The Club Championship as the TeeTime simulator publishes it (its entries fill up while the demo runs)."""
    c = competition(0, now.replace(minute=0, second=0, microsecond=0))
    return {"name": c["name"], "competitionId": c["competitionId"], "startsAt": c["startsAt"],
            "entryDeadline": c["entryDeadline"], "capacity": c["capacity"], "format": c["format"],
            "description": "The club's premier event: two rounds of stableford, prizes for every division."}


async def plan(*, tenant: str, secret: str, segmentation_url: str, campaigns_url: str, members: int,
               state_dir: Path) -> None:
    marker = state_dir / f"{tenant}-campaigns.json"
    if marker.exists():
        return
    token = issue_token(secret, tenant=tenant, roles=["marketer", "admin"], subject="marketing@demo-club")
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        r = await http.post(f"{segmentation_url}/api/v1/segments", json={
            "name": "Active members", "description": "Every member whose membership is active",
            "criteria": ACTIVE_MEMBERS})
        r.raise_for_status()
        segment_id = r.json()["id"]
        r = await http.post(f"{campaigns_url}/api/v1/campaigns", json=demo_campaigns(segment_id, datetime.now(UTC))[0])
        r.raise_for_status()
        ids = [r.json()["id"]]
        # The audience is snapshotted when sending starts: wait until the segment's members reached campaigns.
        for _ in range(300):
            count = (await http.get(f"{campaigns_url}/api/v1/campaigns/{ids[0]}/audience")).json()["count"]
            if count >= members // 3:
                break
            await asyncio.sleep(1)
        for body in demo_campaigns(segment_id, datetime.now(UTC))[1:]:  # times from now, after the wait
            r = await http.post(f"{campaigns_url}/api/v1/campaigns", json=body)
            r.raise_for_status()
            ids.append(r.json()["id"])
        # Written before scheduling: a second `make up` never plans the club's campaigns twice.
        marker.write_text(json.dumps({"segment": segment_id, "campaigns": ids}))
        for cid in ids:
            (await http.post(f"{campaigns_url}/api/v1/campaigns/{cid}/schedule")).raise_for_status()
        # Competitions published from now on are promoted on their own; the championship, published before the
        # club had settings, is promoted by hand (409: it is promoted already).
        (await http.put(f"{campaigns_url}/api/v1/promotions/settings", json={
            "autoPromote": True, "channels": ["EMAIL", "PUSH", "SOCIAL"], "audienceSegmentId": segment_id,
            "reminderDays": [7, 3, 1]})).raise_for_status()
        r = await http.post(f"{campaigns_url}/api/v1/promotions", json=demo_promotion(datetime.now(UTC)))
        if r.status_code != 409:
            r.raise_for_status()
    print(f"simulators: the demo marketer scheduled {len(ids)} campaigns and a promotion for '{tenant}'", flush=True)
