"""The promotions tests' club: the campaigns service in-process on a ManualClock (days pass without waiting; a
step's job is run as the worker runs it), TeeTime publishing competition events on the real broker, and counts
read from the service's own tables (dispatch's ledger, the outbox)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
from camp_helpers import Api, email_of
from sqlalchemy import text

from fairway_campaigns.promotions.jobs import promotion_step
from fairway_chassis import ManualClock
from fairway_testkit import RunningService, auth_headers, send_upstream, wait_for

TENANT = "stonehaven"
COMPETITION = "COMP-77"


class Promotions:
    def __init__(self, svc: RunningService, clock: ManualClock, producer: Any, topics: Any) -> None:
        self.svc = svc
        self.clock = clock
        self.producer = producer
        self.topics = topics
        self.api = Api(svc)
        self.headers = auth_headers(TENANT, ("marketer",))

    async def settings(self, **overrides: Any) -> dict[str, Any]:
        body = {"audienceSegmentId": "seg-active-members", "channels": ["EMAIL", "SOCIAL"], "timeZone": "UTC",
                **overrides}
        r = await self.svc.http.put("/api/v1/promotions/settings", json=body, headers=self.headers)
        assert r.status_code == 200, r.text
        return r.json()

    async def teetime(self, event_type: str, payload: dict[str, Any], identity: dict[str, Any] | None = None,
                      event_id: str | None = None) -> str:
        return await send_upstream(self.producer, self.topics, event_type, TENANT, identity or {},
                                   {"competitionId": COMPETITION, **payload}, event_id=event_id,
                                   key=COMPETITION)

    async def publish(self, starts_at: datetime, deadline: datetime | None = None) -> dict[str, Any]:
        await self.teetime("teetime.competition.published", {
            "name": "Stonehaven Winter Medal", "startsAt": starts_at.isoformat(), "format": "medal",
            **({"entryDeadline": deadline.isoformat()} if deadline else {})})
        return await self.promotion(lambda p: p)

    async def enter(self, profile_id: str, entry: str, **extra: Any) -> None:
        await self.teetime("teetime.competition.entry_created", {"entryId": entry, **extra},
                           identity={"email": email_of(profile_id)})

    async def get(self, promotion_id: str) -> dict[str, Any]:
        r = await self.svc.http.get(f"/api/v1/promotions/{promotion_id}", headers=self.headers)
        assert r.status_code == 200, r.text
        return r.json()

    async def promotion(self, check: Any, what: str = "the promotion") -> dict[str, Any]:
        """Wait until the competition's promotion satisfies `check`."""
        async def look() -> dict[str, Any] | None:
            r = await self.svc.http.get("/api/v1/promotions", headers=self.headers)
            items = [p for p in r.json()["items"] if p["competitionId"] == COMPETITION]
            if not items:
                return None
            p = await self.get(items[0]["id"])
            return p if check(p) else None

        return await wait_for(look, timeout=90, what=what)

    async def run(self, p: dict[str, Any], step: str, *, at: datetime | None = None, due: str | None = None) -> None:
        """Move the clock to the step's time (or `at`) and run its job as the worker would."""
        planned = next(s for s in p["schedule"] if s["step"] == step)
        self.clock.set(at or datetime.fromisoformat(planned["dueAt"]) + timedelta(minutes=1))
        await promotion_step(self.svc.runtime, tenant_id=TENANT, promotion_id=p["id"], step=step,
                             due=due or planned["dueAt"])

    async def ledger(self, promotion_id: str) -> dict[str, list[str]]:
        """step -> profile ids dispatch recorded a request for (one per request)."""
        async with self.svc.runtime.sessionmaker() as s:
            rows = (await s.execute(text(
                "SELECT step_id, profile_id FROM dispatch_ledger WHERE source_kind = 'PROMOTION' "
                "AND source_id IN (:p, :e) ORDER BY step_id, profile_id"),
                {"p": promotion_id, "e": f"{promotion_id}/entrants"})).all()
        out: dict[str, list[str]] = {}
        for step, profile in rows:
            out.setdefault(step, []).append(profile)
        return out

    async def outbox(self, event_type: str, promotion_id: str) -> list[dict[str, Any]]:
        async with self.svc.runtime.sessionmaker() as s:
            rows = (await s.execute(text(
                "SELECT body FROM event_outbox WHERE event_type = :t AND key = :k ORDER BY id"),
                {"t": event_type, "k": promotion_id})).all()

        return [orjson.loads(r[0])["payload"] for r in rows]

    async def keys_known(self, n: int) -> None:
        """Wait until campaigns links `n` profiles' keys (how upstream entries are tied to profiles)."""
        async def count() -> bool:
            async with self.svc.runtime.sessionmaker() as s:
                return (await s.execute(text("SELECT count(DISTINCT profile_id) FROM campaign_profile_keys"))
                        ).scalar_one() >= n
        await wait_for(count, timeout=90, what=f"{n} profiles' keys")
