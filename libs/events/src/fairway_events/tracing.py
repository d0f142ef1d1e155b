"""OpenTelemetry context in Kafka headers: one trace spans HTTP -> outbox -> topic -> consumer."""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

tracer = trace.get_tracer("fairway.events")

TRACE_HEADERS = ("traceparent", "tracestate")


def current_trace_headers() -> dict[str, str]:
    """The W3C trace context of the current span, to store beside an outgoing event."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return {k: v for k, v in carrier.items() if k in TRACE_HEADERS}


def headers_to_dict(headers: Sequence[tuple[str, bytes]] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in headers or ():
        try:
            out[k] = v.decode() if isinstance(v, bytes | bytearray) else str(v)
        except UnicodeDecodeError:
            continue
    return out


def dict_to_headers(headers: Mapping[str, str]) -> list[tuple[str, bytes]]:
    return [(k, v.encode()) for k, v in headers.items()]


@contextmanager
def consume_span(name: str, headers: Mapping[str, str], **attributes: str) -> Iterator[trace.Span]:
    """A consumer span whose parent is the producer's context carried in the event headers."""
    parent = propagate.extract(dict(headers))
    token = otel_context.attach(parent)
    try:
        with tracer.start_as_current_span(name, kind=trace.SpanKind.CONSUMER, attributes=attributes) as span:
            yield span
    finally:
        otel_context.detach(token)


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None
