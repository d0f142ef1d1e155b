"""The feature pipeline through the real broker: upstream events and crm.identity into features (Feast online
store), scores, score.updated; tenant isolation; a future-dated event that must not count yet; erasure."""

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select, text

from fairway_events import registry
from fairway_events.contracts.identity import (
    Attributes,
    Consent,
    Identities,
    ProfileCreated,
    ProfileErased,
    ProfileSnapshot,
)
from fairway_ml_scoring.app import create_app
from fairway_ml_scoring.db import ml_events, ml_scores
from fairway_testkit import auth_headers, run_service, upstream_event, wait_for


async def send(producer, topic, payload: bytes, key: str) -> None:
    await producer.send_and_wait(topic, payload, key=key.encode())


async def send_identity(producer, topics, tenant: str, payload, aggregate: str) -> None:
    env = registry.envelope(payload, tenant_id=tenant, aggregate_id=aggregate, source="identity")
    await producer.send_and_wait(
        topics("crm.identity"),
        env.to_wire(),
        key=aggregate.encode(),
        headers=[(k, v.encode()) for k, v in env.wire_headers().items()],
    )


async def count(svc, tenant: str, subject: str | None = None) -> int:
    async with svc.runtime.sessionmaker() as s:
        q = select(ml_events.c.event_id).where(ml_events.c.tenant_id == tenant)
        if subject:
            q = q.where(ml_events.c.subject_id == subject)
        return len((await s.execute(q)).all())


async def test_events_become_features_scores_and_announcements(ml_settings, producer, topics) -> None:
    app = create_app(ml_settings())
    now = datetime.now(UTC)
    ann = {"teetimePlayerId": "P1"}
    a_events = [
        ("teetime.booking.created", ann, {"bookingId": "b1", "amount": "450"}, now - timedelta(days=3)),
        ("teetime.round.played", ann, {"roundId": "r1"}, now - timedelta(days=2)),
        (
            "teetime.purchase.completed",
            {"teetimePlayerId": "P1"},
            {"purchaseId": "x1", "amount": "120"},
            now - timedelta(days=1),
        ),
        ("messaging.email.sent", {"email": "ann@club.com"}, {"messageId": "m1"}, now - timedelta(days=4)),
        (
            "messaging.email.opened",
            {"email": "Ann@Club.com "},
            {"messageId": "m1"},
            now - timedelta(days=4, hours=-2),
        ),
        (
            "contactPreference.updated",
            {"email": "ann@club.com"},
            {"emailOptIn": True, "smsOptIn": True},
            now - timedelta(days=30),
        ),
        # Planted: a purchase dated ten days from now (a pre-paid booking) must not count as of today.
        (
            "teetime.purchase.completed",
            {"teetimePlayerId": "P1"},
            {"purchaseId": "future", "amount": "99999"},
            now + timedelta(days=10),
        ),
    ]
    async with run_service(app) as svc:
        for event_type, ident, payload, at in a_events:
            topic = topics(
                event_type.split(".")[0] + ".events"
                if "." in event_type and not event_type.startswith("contactPreference")
                else "messaging.events"
            )
            await send(producer, topic, upstream_event(event_type, "club-a", ident, payload, at=at), "P1")
        await send(
            producer,
            topics("teetime.events"),
            upstream_event(
                "teetime.booking.created",
                "club-b",
                {"teetimePlayerId": "P1"},
                {"bookingId": "z"},
                at=now - timedelta(days=80),
            ),
            "P1",
        )
        await wait_for(lambda: count(svc, "club-a"), what="club-a events logged")
        await wait_for(lambda: _at_least(svc, "club-a", 7), what="all club-a events")
        await wait_for(lambda: _at_least(svc, "club-b", 1), what="club-b event")
        # Before identity: email events and player events are different provisional subjects.
        player = "teetimePlayerId:P1"
        assert (
            await count(svc, "club-a", player) == 4
        )  # booking, round, 2 purchases; the email events are apart

        # Only profiles are customers: a key nobody has resolved yet is not answered for, in any club.
        for club in ("club-a", "club-b", "club-c"):
            r = await svc.http.get(f"/api/v1/ml/engagement/{player}", headers=auth_headers(club, ["staff"]))
            assert r.status_code == 404 and r.json()["error"] == "NotFound", r.text

        # Identity resolves both keys to one profile: every event moves to it.
        snapshot = ProfileSnapshot(
            profileId="prof-1",
            status="ACTIVE",
            identities=Identities(teetimePlayerId=["P1"], email=["ann@club.com"]),
            attributes=Attributes(membershipTier="Full", membershipExpiry=(now + timedelta(days=20)).date()),
            consent=Consent(emailOptIn=True, smsOptIn=True),
        )
        await send_identity(producer, topics, "club-a", ProfileCreated(profile=snapshot), "prof-1")
        await wait_for(lambda: _moved(svc), what="events moved to prof-1")
        await svc.runtime.state.drain()  # the online-store push follows the commit
        r = await svc.http.get("/api/v1/ml/engagement/prof-1", headers=auth_headers("club-a", ["staff"]))
        assert r.status_code == 200 and r.json()["featureSource"] == "online-store", r.text
        eng = r.json()
        assert eng["components"]["frequency"]["inputs"]["activities30d"] == 3
        assert (
            eng["components"]["monetary"]["inputs"]["lifetimeValueCents"] == 57000
        )  # 450 + 120: not the future 99999
        assert eng["components"]["recency"]["inputs"]["daysSinceLastActivity"] < 1.1
        assert eng["components"]["depth"]["inputs"] == {"sent30d": 1, "opened30d": 1, "clicked30d": 0}
        assert eng["components"]["breadth"]["score"] == 50
        assert (
            await svc.http.get(f"/api/v1/ml/engagement/{player}", headers=auth_headers("club-a"))
        ).status_code == 404
        fs = svc.runtime.state.fs  # the fast online read agrees with Feast's public API
        fast, found = fs.read_values("club-a", ["prof-1", "nobody"])
        public = fs.store.get_online_features(
            features=["profile_vector:raw"],
            entity_rows=[{"tenant_id": "club-a", "profile_id": p} for p in ("prof-1", "nobody")],
        ).to_dict()
        assert list(found) == [True, False] and public["raw"][1] is None
        assert np.allclose(fast[0], public["raw"][0], equal_nan=True)

        # score.updated for the profile (never for provisional subjects), with the same engagement score.
        announced = await wait_for(lambda: _outbox(svc, "score.updated"), what="score.updated")
        assert {e["aggregate_id"] for e in announced} == {"prof-1"}
        latest = announced[-1]["payload"]
        assert latest["engagementScore"] == eng["engagementScore"] and latest["modelVersion"] == "rules-v1"

        # No model yet: the rule-based estimate answers and says so, with factors staff can read.
        r = await svc.http.get(
            "/api/v1/ml/churn/predict",
            params={"customerId": "prof-1"},
            headers=auth_headers("club-a", ["staff"]),
        )
        assert r.status_code == 200, r.text
        pred = r.json()
        assert pred["model"]["source"] == "RULES" and pred["fallback"]["used"] is True
        assert "no champion churn model" in pred["fallback"]["reason"]
        assert pred["riskLevel"] in ("LOW", "MEDIUM") and 0 < pred["churnProbability"] < 0.6
        factors = {f["factor"]: f for f in pred["topFactors"]}
        assert "membership" in factors and factors["membership"]["description"].startswith(
            "The membership expires in"
        )
        assert pred["recommendedActions"] and pred["validUntil"] > pred["predictedAt"]
        again = await svc.http.get(
            "/api/v1/ml/churn/predict",
            params={"customerId": "prof-1"},
            headers=auth_headers("club-a", ["staff"]),
        )
        assert (
            again.json()["predictionId"] == pred["predictionId"]
        )  # same model, same features: the stored one
        r = await svc.http.post(
            f"/api/v1/ml/churn/{pred['predictionId']}/actual-churn",
            json={"churned": True, "churnDate": now.date().isoformat()},
            headers=auth_headers("club-a", ["staff"]),
        )
        assert r.status_code == 200 and r.json()["actualOutcome"] == {
            "churned": True,
            "churnDate": now.date().isoformat(),
            "wasAccurate": False,
        }
        other = await svc.http.post(
            f"/api/v1/ml/churn/{pred['predictionId']}/actual-churn",
            json={"churned": False},
            headers=auth_headers("club-b", ["staff"]),
        )
        assert other.status_code == 404  # another club's prediction does not exist for club-b
        bad = await svc.http.post(
            "/api/v1/ml/churn/not-a-uuid/actual-churn",
            json={"churned": "maybe"},
            headers=auth_headers("club-a", ["staff"]),
        )
        assert bad.status_code == 422 and {d["field"] for d in bad.json()["detail"]} >= {"path.predictionId"}
        bad = await svc.http.get(
            "/api/v1/ml/churn/at-risk",
            params={"riskLevel": "SEVERE"},
            headers=auth_headers("club-a", ["staff"]),
        )
        assert bad.status_code == 422 and bad.json()["detail"][0]["field"].startswith("query.riskLevel")
        risk = await svc.http.get(
            "/api/v1/ml/churn/at-risk",
            params={"riskLevel": ["LOW", "MEDIUM"]},
            headers=auth_headers("club-a", ["marketer"]),
        )
        assert [i["customerId"] for i in risk.json()["items"]] == ["prof-1"]
        club_b = (await svc.http.get("/api/v1/ml/churn/at-risk", headers=auth_headers("club-b"))).json()[
            "items"
        ]
        assert club_b == []  # club-b's P1 is nobody identity announced: held back, not listed by key

        # Erasure: the person's events, scores and online features go.
        await send_identity(
            producer, topics, "club-a", ProfileErased(profileId="prof-1", erasedAt=now), "prof-1"
        )
        await wait_for(lambda: _gone(svc), what="prof-1 erased")
        assert (
            await svc.http.get("/api/v1/ml/engagement/prof-1", headers=auth_headers("club-a"))
        ).status_code == 404
        await svc.runtime.state.drain()
        raw, found = svc.runtime.state.fs.read("club-a", ["prof-1"])
        assert not found[0] and raw.drop(columns=["event_count"]).isna().all(axis=None)  # tombstone, no data


async def _at_least(svc, tenant: str, n: int) -> bool:
    return await count(svc, tenant) >= n


async def _moved(svc) -> bool:
    return await count(svc, "club-a", "prof-1") == 8  # 7 upstream events + the profile's attributes


async def _gone(svc) -> bool:
    async with svc.runtime.sessionmaker() as s:
        left = (
            await s.execute(select(ml_scores.c.subject_id).where(ml_scores.c.tenant_id == "club-a"))
        ).all()
    return await count(svc, "club-a") == 0 and not left


async def _outbox(svc, event_type: str) -> list[dict]:
    import json

    async with svc.runtime.sessionmaker() as s:
        rows = (
            await s.execute(
                text("SELECT key, body FROM event_outbox WHERE event_type = :t ORDER BY id"),
                {"t": event_type},
            )
        ).all()
    return [{"aggregate_id": r.key, **json.loads(r.body)} for r in rows]
