"""`fairway replay transactions`: a purchase history through the real broker into ml-scoring, twice; its
customers are answered for once identity announces them as profiles."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fairway_events.contracts.identity import Attributes, Consent, Identities, ProfileCreated, ProfileSnapshot
from fairway_events.history import ReplayError, read_transactions, replay_transactions
from fairway_ml_scoring.app import create_app
from fairway_ml_scoring.db import ml_events
from fairway_testkit import auth_headers, run_service, wait_for

from .test_pipeline import send_identity

CDNOW_LIKE = """customer_id   date       quantity   amount
00001  19970101  1  11.77
00002  19970112  1  12.00
00002  19970112  1  12.00
00002  19970327  5  77.00
00003  19970102  2  20.76
00003  19970330  2  20.76
00003  19970402  2  19.54
00004  19970101  2  29.33
00004  19970118  x  29.73
"""


async def logged(svc, tenant: str, kind: str | None = None) -> int:
    async with svc.runtime.sessionmaker() as s:
        q = select(func.count()).select_from(ml_events).where(ml_events.c.tenant_id == tenant)
        if kind:
            q = q.where(ml_events.c.kind == kind)
        return (await s.execute(q)).scalar()


def test_reading_files(tmp_path) -> None:
    path = tmp_path / "history.txt"
    path.write_text(CDNOW_LIKE)
    skipped: list[str] = []
    rows = list(read_transactions(path, skipped))
    assert len(rows) == 8 and rows[0].customer_id == "00001" and rows[0].day.isoformat() == "1997-01-01"
    assert rows[3].quantity == 5 and rows[3].amount == Decimal("77.00")
    assert len(skipped) == 1 and skipped[0].startswith("line 10")
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,date,amount\n1,2020-01-01,3\n")
    with pytest.raises(ReplayError, match="lacks quantity"):
        list(read_transactions(bad))


def profile(profile_id: str, **keys: list[str]) -> ProfileCreated:
    return ProfileCreated(profile=ProfileSnapshot(profileId=profile_id, status="ACTIVE", identities=Identities(**keys),
                                                  attributes=Attributes(), consent=Consent()))


async def test_replay_through_the_broker_is_idempotent(
    ml_settings, kafka_bootstrap, topic_prefix, topics, producer, tmp_path
) -> None:
    history = tmp_path / "cdnow.txt"
    history.write_text(CDNOW_LIKE)
    payments = tmp_path / "payments.csv"
    payments.write_text(
        "customer_id,date,quantity,amount\nM1,2024-03-01,1,1500.00\nM1,2024-09-01T08:30:00,1,1500\n"
    )
    async with run_service(create_app(ml_settings())) as svc:
        first = await replay_transactions(
            history, "club-r", kafka_bootstrap, topic_prefix, wait=True, skip_bad=True, wait_timeout=60
        )
        assert first.published == 8 and first.waited and first.customers == 4 and len(first.skipped) == 1
        assert (first.first_date, first.last_date) == ("1997-01-01", "1997-04-02")
        assert await logged(svc, "club-r", "purchase") == 8  # two identical rows on one day are two purchases
        again = await replay_transactions(
            history, "club-r", kafka_bootstrap, topic_prefix, wait=True, skip_bad=True, wait_timeout=60
        )
        assert again.published == 8 and await logged(svc, "club-r") == 8  # same ids: nothing counted twice

        scl = await replay_transactions(
            payments,
            "club-r",
            kafka_bootstrap,
            topic_prefix,
            source="scl",
            wait=True,
            wait_timeout=60,
        )
        assert scl.published == 2 and await logged(svc, "club-r", "payment") == 2

        # Nobody is a customer before identity says who they are; then the history is theirs.
        r = await svc.http.get(
            "/api/v1/ml/clv/predict", params={"customerId": "teetimePlayerId:00002"}, headers=auth_headers("club-r")
        )
        assert r.status_code == 404
        p2, m1 = "0190c0de-0000-7000-8000-000000000002", "0190c0de-0000-7000-8000-000000000011"
        await send_identity(producer, topics, "club-r", profile(p2, teetimePlayerId=["00002"]), p2)
        await send_identity(producer, topics, "club-r", profile(m1, sclMemberId=["M1"]), m1)

        async def answered() -> bool:
            r = await svc.http.get("/api/v1/ml/engagement/" + m1, headers=auth_headers("club-r"))
            return r.status_code == 200

        await wait_for(answered, what="profiles announced")
        r = await svc.http.get("/api/v1/ml/clv/predict", params={"customerId": p2}, headers=auth_headers("club-r"))
        assert r.status_code == 200 and r.json()["historicalClv"] == 101.0
        r = await svc.http.get("/api/v1/ml/engagement/" + m1, headers=auth_headers("club-r"))
        assert r.json()["components"]["monetary"]["inputs"]["lifetimeValueCents"] == 300000
        with pytest.raises(ReplayError, match="source"):
            await replay_transactions(
                history, "club-r", kafka_bootstrap, topic_prefix, source="pos"
            )
