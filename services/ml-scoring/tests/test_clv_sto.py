"""CLV (baseline vs learned on a holdout, served through the API) and send-time profiles with pooled priors."""

import asyncio
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from fairway_ml_scoring.app import create_app
from fairway_ml_scoring.features.events import LogEvent
from fairway_ml_scoring.features.repository import FeatureLogRepository
from fairway_ml_scoring.features.snapshots import replace_snapshots
from fairway_ml_scoring.lifecycle import service
from fairway_ml_scoring.synthetic import club_history
from fairway_testkit import auth_headers, run_service

from .conftest import insert_events


def opens(tenant: str, player: str, hour: int, n: int, now: datetime, start: int = 0) -> list[LogEvent]:
    out = []
    for i in range(n):
        day = (now - timedelta(days=3 + i)).replace(hour=hour, minute=5)
        out.append(
            LogEvent(
                tenant_id=tenant,
                event_id=f"{tenant}-{player}-open-{start + i}",
                kind="email_opened",
                occurred_at=day,
                keys=[f"teetimePlayerId:{player}"],
            )
        )
        out.append(
            LogEvent(
                tenant_id=tenant,
                event_id=f"{tenant}-{player}-sent-{start + i}",
                kind="email_sent",
                occurred_at=day - timedelta(hours=2),
                keys=[f"teetimePlayerId:{player}"],
            )
        )
    return out


async def test_clv_and_send_time_profiles(ml_settings) -> None:
    now = datetime.now(UTC)
    events, roster = club_history("club-a", members=140, start=now - timedelta(days=760), end=now, seed=7)
    async with run_service(create_app(ml_settings())) as svc:
        ctx = svc.runtime.state
        sessions = svc.runtime.sessionmaker
        async with sessions() as s, s.begin():
            await insert_events(s, events)
        member = f"teetimePlayerId:{next(m for m in roster if m.churn_at is None and m.rate > 3).player_id}"

        # Without a CLV model: a heuristic that says so.
        r = await svc.http.get(
            "/api/v1/ml/clv/predict", params={"customerId": member}, headers=auth_headers("club-a")
        )
        assert (
            r.status_code == 200
            and r.json()["model"]["source"] == "HEURISTIC"
            and r.json()["fallback"]["used"]
        )

        report = await service.train(sessions, ctx, "club-a", "clv", as_of=now, horizon_days=180)
        cmp = report["comparison"]
        assert report["version"] == "1" and report["kind"] in ("bgnbd", "learned")
        assert cmp["customers"] > 100 and cmp["actual_spend_total"] > 0 and cmp["baseline_spend_total"] > 0
        assert cmp["winner"] == (
            "learned" if (cmp["learned_mae_spend"] or float("inf")) < cmp["baseline_mae_spend"] else "bgnbd"
        )
        r = await svc.http.get(
            "/api/v1/ml/clv/predict", params={"customerId": member}, headers=auth_headers("club-a")
        )
        body = r.json()
        assert body["model"] == {
            "name": "clv",
            "version": "clv-v1",
            "kind": report["kind"],
            "source": "MODEL",
        }
        assert len(body["monthlyBreakdown"]) == 12 and body["predictedClv"] > 0
        assert abs(sum(m["predictedSpend"] for m in body["monthlyBreakdown"]) - body["predictedClv"]) < 0.1
        assert body["totalClv"] == pytest.approx(body["historicalClv"] + body["predictedClv"], abs=0.02)
        async with sessions() as s:
            log_ = await FeatureLogRepository(s, "club-a").load([member])
        assert body["historicalClv"] == pytest.approx(
            float(log_.rows([member], [now]).loc[0, "spend_all"]), abs=0.01
        )

        # Feast's point-in-time retrieval: a planted future purchase never reaches an earlier training row.
        past = [now - timedelta(days=d) for d in (300, 30, 0)]
        before = await asyncio.to_thread(ctx.fs.historical, "club-a", [member] * 3, past)
        planted = LogEvent(
            tenant_id="club-a",
            event_id="planted",
            kind="purchase",
            occurred_at=now + timedelta(days=5),
            keys=[member],
            amount=99999.0,
        )
        async with sessions() as s, s.begin():
            await insert_events(s, [planted])
            log_ = await FeatureLogRepository(s, "club-a").load()
            await replace_snapshots(s, "club-a", log_, now + timedelta(days=10))
        after = await asyncio.to_thread(
            ctx.fs.historical, "club-a", [member] * 4, [*past, now + timedelta(days=6)]
        )
        pd.testing.assert_frame_equal(before, after.iloc[:3])
        assert after.loc[3, "spend_all"] == after.loc[2, "spend_all"] + 99999.0  # seen as of its own time

        evaluation = await service.evaluate(
            sessions, ctx, "club-a", "clv", as_of=now - timedelta(days=150), horizon_days=150
        )
        assert evaluation["actual_spend_total"] > 0 and evaluation["baseline_mae_purchases"] >= 0
        assert evaluation["calibration_end"] == (now - timedelta(days=150)).date().isoformat()

        # -- send time: club-b members; Seniors open at 7, everyone else at 20 ---------------------------------
        sto = []
        for i in range(6):
            sto += opens("club-b", f"S{i}", 7, 8, now)
            sto += opens("club-b", f"E{i}", 20, 8, now)
        sto += opens("club-b", "newbie", 13, 2, now)  # a senior with two emails opened at lunchtime
        sto += opens("club-b", "keen", 21, 20, now)  # plenty of evidence of their own
        sto += opens("club-c", "tiny", 9, 2, now)  # a club with almost nothing
        async with sessions() as s, s.begin():
            await insert_events(s, sto)
            repo = FeatureLogRepository(s, "club-b")
            for p in [f"S{i}" for i in range(6)] + ["newbie"]:
                await repo.set_segment(f"teetimePlayerId:{p}", "Senior")

        async def profile(tenant: str, player: str) -> dict:
            resp = await svc.http.get(
                f"/api/v1/ml/sto/teetimePlayerId:{player}", headers=auth_headers(tenant, ["marketer"])
            )
            assert resp.status_code == 200, resp.text
            return resp.json()

        newbie = await profile("club-b", "newbie")
        assert newbie["sampleSize"] == 2 and newbie["personalConfidence"] < 0.3
        assert (
            newbie["source"] == "SEGMENT"
            and newbie["patterns"]["bestHourOfDay"] == 7
            and newbie["confidence"] >= 0.3
        )
        assert "below 0.30" in newbie["fallbackReason"]
        keen = await profile("club-b", "keen")
        assert (
            keen["source"] == "PERSONAL"
            and keen["patterns"]["bestHourOfDay"] == 21
            and keen["confidence"] > 0.5
        )
        assert (
            len(keen["patterns"]["hourlyOpenProbability"]) == 24
            and len(keen["patterns"]["dailyOpenProbability"]) == 7
        )
        assert abs(sum(keen["patterns"]["hourlyOpenProbability"]) - 1) < 1e-3
        assert keen["optimalWindows"][0]["startHour"] in (20, 21) and keen["optimalWindows"][0]["rank"] == 1
        outsider = await profile("club-b", "E0")
        assert outsider["source"] == "PERSONAL" and outsider["patterns"]["bestHourOfDay"] == 20
        tiny = await profile("club-c", "tiny")
        assert tiny["source"] == "ALL_TENANTS" and tiny["patterns"]["bestHourOfDay"] in (7, 20, 21)
        r = await svc.http.get("/api/v1/ml/sto/teetimePlayerId:keen", headers=auth_headers("club-c"))
        assert r.status_code == 404  # club-c has no such member
