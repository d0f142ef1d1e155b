from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from fairway_events import Dispatch, EventConsumer, TopicNames, outbox, registry
from fairway_events.contracts.messaging_out import Recipient, SendRequested

from .conftest import outbox_table

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))


class Rec:
    def __init__(self, value: bytes, headers: list, topic: str) -> None:
        self.value, self.headers, self.topic, self.partition, self.offset, self.key = value, headers, topic, 0, 0, b""


async def test_trace_context_travels_from_the_writer_through_the_outbox_to_the_consumer(
    engine: AsyncEngine, created_topics: TopicNames, producer
) -> None:  # noqa: ANN001
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("POST /api/v1/things") as http_span:
        trace_id = http_span.get_span_context().trace_id
        async with async_sessionmaker(engine)() as s, s.begin():
            env = registry.envelope(SendRequested(requestId="r", channel="SMS", recipient=Recipient(profileId="p"),
                                                  body="hi"), tenant_id="club-a", aggregate_id="p", source="t")
            await outbox.append(s, env)
    async with engine.connect() as c:
        row = (await c.execute(select(outbox_table.c.body, outbox_table.c.headers))).one()
    assert row.headers["traceparent"].split("-")[1] == format(trace_id, "032x")

    seen = []
    dispatch = Dispatch()

    @dispatch.on("messaging.send.requested")
    async def handle(session, e) -> None:  # noqa: ANN001
        seen.append(trace.get_current_span().get_span_context().trace_id)

    trace.set_tracer_provider(provider)
    consumer = EventConsumer(name="tracer", topics=["crm.messaging.send_requests"], handler=dispatch,
                             handles=dispatch.types, topic_names=created_topics,
                             sessionmaker=async_sessionmaker(engine), producer=producer)
    headers = [(k, str(v).encode()) for k, v in row.headers.items()]
    await consumer.process([Rec(row.body.encode(), headers, created_topics("crm.messaging.send_requests"))])
    assert seen == [trace_id]
