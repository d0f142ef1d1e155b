"""The outbox's bulk paths write what a single append writes: every row decodes with the registry into a valid
envelope and payload, with a UUIDv7 id, the routing headers and the current trace."""
from datetime import UTC, datetime
from uuid import UUID

import pytest
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from fairway_events import Sql, outbox, registry
from fairway_events.contracts.messaging_out import Recipient, SegmentSyncDelta, SendRequested
from fairway_events.contracts.segmentation import SegmentMemberEntered, SegmentMemberExited
from fairway_events.envelope import Envelope, decode_raw
from fairway_events.tracing import current_trace_headers

from .conftest import outbox_table

AT = datetime(2026, 11, 21, 7, 30, tzinfo=UTC)
tracer = TracerProvider().get_tracer("test")


async def written(engine: AsyncEngine) -> list[tuple[Envelope, dict, object]]:
    """Each outbox row decoded as a consumer decodes what the relay sends: (envelope, headers, row)."""
    async with engine.connect() as c:
        rows = (await c.execute(select(outbox_table).order_by(outbox_table.c.id))).all()
    return [(registry.validate(decode_raw(r.body.encode(), r.headers)), r.headers, r) for r in rows]


def assert_row_matches(env: Envelope, headers: dict, row: object, traceparent: str) -> None:
    assert UUID(env.event_id).version == 7 and UUID(env.event_id).variant == "specified in RFC 4122"
    assert (row.event_id, row.event_type, row.version, row.key) == (  # type: ignore[attr-defined]
        env.event_id, env.event_type, env.version, env.aggregate_id
    )
    assert row.topic == registry.spec_for(type(env.payload)).topic  # type: ignore[attr-defined]
    assert (row.tenant_id, row.occurred_at) == (env.tenant_id, env.occurred_at)  # type: ignore[attr-defined]
    assert headers["event_type"] == env.event_type
    assert headers["version"] == str(env.version)
    assert headers["tenant_id"] == env.tenant_id
    assert headers["traceparent"] == traceparent


async def test_append_many_writes_envelopes_in_order_with_trace_headers(engine: AsyncEngine) -> None:
    events = [
        registry.envelope(
            SendRequested(requestId=f"r{i}", channel="EMAIL", recipient=Recipient(profileId=f"p{i % 3}"), body="Hi"),
            tenant_id="fairwaygolf", aggregate_id=f"p{i % 3}", source="test", occurred_at=AT,
        )
        for i in range(25)
    ]
    with tracer.start_as_current_span("POST /api/v1/sends"):
        traceparent = current_trace_headers()["traceparent"]
        async with async_sessionmaker(engine)() as s, s.begin():
            await outbox.append_many(s, events)
    decoded = await written(engine)
    assert [e for e, _, _ in decoded] == events
    for env, headers, row in decoded:
        assert_row_matches(env, headers, row, traceparent)


async def test_append_select_builds_one_valid_event_per_row_choosing_the_type_per_row(engine: AsyncEngine) -> None:
    async with engine.begin() as c:
        await c.execute(text("CREATE TABLE changes (profile_id text, entered boolean)"))
        await c.execute(
            text("INSERT INTO changes SELECT 'p' || lpad(i::text, 4, '0'), i % 3 <> 0 FROM generate_series(1, 300) i")
        )
    with tracer.start_as_current_span("POST /api/v1/segments/s1/refresh"):
        traceparent = current_trace_headers()["traceparent"]
        async with async_sessionmaker(engine)() as s, s.begin():
            n = await outbox.append_select(
                s,
                event={"entered": SegmentMemberEntered, "NOT entered": SegmentMemberExited},
                rows="SELECT profile_id, entered FROM changes WHERE profile_id <> :skip",
                params={"skip": "p0001"},
                order_by="profile_id",
                payload={
                    "segmentId": "s1", "segmentName": 'Lapsed "4-ball" members', "profileId": Sql("profile_id"),
                    "at": AT, "reason": "rule",
                },
                tenant_id="stonehaven",
                aggregate_id="s1",
                occurred_at=AT,
                source="segmentation",
            )
    assert n == 299
    decoded = await written(engine)
    assert len(decoded) == 299
    ids = [e.event_id for e, _, _ in decoded]
    assert ids == sorted(ids) and len(set(ids)) == 299  # ascending in order_by order
    assert [e.payload.profileId for e, _, _ in decoded] == [f"p{i:04d}" for i in range(2, 301)]
    for env, headers, row in decoded:
        i = int(env.payload.profileId[1:])
        assert isinstance(env.payload, SegmentMemberEntered if i % 3 else SegmentMemberExited)
        assert env.payload.segmentName == 'Lapsed "4-ball" members' and env.payload.at == AT
        assert (env.tenant_id, env.aggregate_id, env.source, env.occurred_at) == ("stonehaven", "s1", "segmentation", AT)
        assert_row_matches(env, headers, row, traceparent)


async def test_append_select_splices_json_values_and_keys_by_an_expression(engine: AsyncEngine) -> None:
    async with engine.begin() as c:
        await c.execute(text("CREATE TABLE chunks (segment_id text, chunk int, added text, removed text)"))
        await c.execute(
            text(
                "INSERT INTO chunks VALUES ('s2', 0, '{\"profileId\":\"p1\",\"email\":\"ann@fairwaygolf.co.za\"}', ''), "
                "('s3', 1, '', '\"p2\",\"p3\"')"
            )
        )
    async with async_sessionmaker(engine)() as s, s.begin():
        n = await outbox.append_select(
            s,
            event=SegmentSyncDelta,
            rows="SELECT * FROM chunks",
            order_by="chunk",
            payload={
                "segmentId": Sql("segment_id"), "segmentName": "Juniors",
                "added": Sql("'[' || added || ']'", json=True), "removed": Sql("'[' || removed || ']'", json=True),
                "fullResync": Sql("chunk = 0 AND :full"),
            },
            params={"full": True},
            tenant_id="fairwaygolf",
            aggregate_id=Sql("segment_id"),
            occurred_at=AT,
            source="segmentation",
        )
    assert n == 2
    (first, h1, r1), (second, _, _) = await written(engine)
    assert first.payload == SegmentSyncDelta(
        segmentId="s2", segmentName="Juniors", added=[Recipient(profileId="p1", email="ann@fairwaygolf.co.za")],
        fullResync=True,
    )
    assert second.payload == SegmentSyncDelta(segmentId="s3", segmentName="Juniors", removed=["p2", "p3"])
    assert (first.aggregate_id, second.aggregate_id) == ("s2", "s3")
    assert "traceparent" not in h1  # no span: no trace header, as a single append writes
    assert_row_matches(first, {**h1, "traceparent": None}, r1, None)  # type: ignore[arg-type]


async def test_append_select_refuses_event_types_that_would_land_on_different_topics(engine: AsyncEngine) -> None:
    async with async_sessionmaker(engine)() as s:
        with pytest.raises(ValueError, match="topic and version"):
            await outbox.append_select(
                s, event={"true": SegmentMemberEntered, "false": SegmentSyncDelta}, rows="SELECT 1 AS x",
                order_by="x", payload={}, tenant_id="fairwaygolf", aggregate_id="s", occurred_at=AT, source="t",
            )
