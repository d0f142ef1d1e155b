"""`fairway replay transactions`: bad rows, re-runs, and --wait on the groups that read the events."""
import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fairway_events import CONSUMER_GROUPS, Dispatch, EventConsumer, TopicNames
from fairway_events.catalogue import downstream, readers
from fairway_events.history import ReplayError, consumer_lag, read_transactions, replay_transactions

from .conftest import effects
from .test_consumer import effect_counts

CDNOW_LIKE = """customer_id   date       quantity   amount
00001  19970101  1  11.77
00002  19970112  1  12.00
00002  19970112  1  12.00
00002  19970327  5  77.00
00003  19970102  2  20.76
00004  19970118  x  29.73
00004  19970101  2  29.33
"""


def history(tmp_path: Path, text: str = CDNOW_LIKE) -> Path:
    path = tmp_path / "history.txt"
    path.write_text(text)
    return path


def test_a_bad_row_names_its_line_and_stops_the_file_unless_skipped(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match=r"line 7: quantity 'x' is not a number \(nothing was published"):
        list(read_transactions(history(tmp_path)))
    skipped: list[str] = []
    rows = list(read_transactions(history(tmp_path), skipped))
    assert skipped == ["line 7: quantity 'x' is not a number"] and len(rows) == 6
    assert rows[3].quantity == 5 and rows[3].amount == Decimal("77.00") and rows[0].day.isoformat() == "1997-01-01"
    for text, problem in [
        ("customer_id,date,quantity,amount\n1,2020-01-01,1\n", "line 2: 3 column(s), fewer than the header names"),
        ("customer_id,date,quantity,amount\n1,2020-13-01,1,3\n", "line 2: date '2020-13-01' is neither"),
        ("customer_id,date,quantity,amount\n1,2020-01-01,1,-3\n", "line 2: amount and quantity must be"),
        ("customer_id,date,quantity,amount\n1,2020-01-01,1,NaN\n", "line 2: amount and quantity must be finite"),
        ("customer_id,date,quantity,amount\n,2020-01-01,1,3\n", "line 2: customer_id '' is empty"),
        ("customer_id,date,amount\n1,2020-01-01,3\n", "the header row lacks quantity"),
    ]:
        with pytest.raises(ReplayError, match=problem.replace("(", r"\(").replace(")", r"\)")):
            list(read_transactions(history(tmp_path, text)))


def test_waiting_follows_events_to_every_group_they_reach() -> None:
    assert {g.name for g in readers("teetime.events")} >= {"identity.resolution", "timeline.activities",
                                                           "ml-scoring.features"}
    reach = downstream(["teetime.events"])
    assert reach[0] == "teetime.events" and {"crm.identity", "crm.timeline", "crm.scoring"} <= set(reach)
    assert {g.name for g in CONSUMER_GROUPS} >= {"segmentation.read-model", "journeys.events"}


async def test_replay_waits_for_the_groups_reading_it_and_a_rerun_has_no_effect(
    engine: AsyncEngine, kafka_bootstrap: str, created_topics: TopicNames, producer: AIOKafkaProducer,
    tmp_path: Path,
) -> None:
    """A stand-in for ml-scoring's feature consumer (its group and topics, a slow handler): --wait returns only
    once it has committed everything; a bad file publishes nothing; a second run changes nothing."""
    dispatch = Dispatch()

    @dispatch.on("teetime.purchase.completed")
    async def record(session: AsyncSession, env) -> None:  # noqa: ANN001
        await asyncio.sleep(0.05)
        await session.execute(insert(effects).values(event_id=env.event_id, n=1).on_conflict_do_update(
            index_elements=["event_id"], set_={"n": effects.c.n + 1}))

    group = next(g for g in CONSUMER_GROUPS if g.name == "ml-scoring.features")
    consumer = EventConsumer(name=group.name, topics=group.topics, handler=dispatch, handles=dispatch.types,
                             topic_names=created_topics, sessionmaker=async_sessionmaker(engine), producer=producer,
                             max_records=5)
    prefix = created_topics.prefix
    with pytest.raises(ReplayError, match="line 7"):
        await replay_transactions(history(tmp_path), "stonehaven", kafka_bootstrap, prefix)
    await consumer.start(kafka_bootstrap, session_timeout_ms=3000, heartbeat_interval_ms=500)
    try:
        assert await consumer_lag(kafka_bootstrap, created_topics, ["teetime.events"]) == {group.name: 0}
        first = await replay_transactions(history(tmp_path), "stonehaven", kafka_bootstrap, prefix, wait=True,
                                          skip_bad=True, wait_timeout=120)
        assert first.published == 6 and first.waited and first.customers == 4 and len(first.skipped) == 1
        counts = await effect_counts(engine)
        assert len(counts) == 6 and set(counts.values()) == {1}  # all in when --wait returned
        again = await replay_transactions(history(tmp_path), "stonehaven", kafka_bootstrap, prefix, wait=True,
                                          skip_bad=True, wait_timeout=120)
        assert again.published == 6 and await effect_counts(engine) == counts  # same ids: no second effect
    finally:
        await consumer.stop()
