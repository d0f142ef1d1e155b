"""HTTP tracing (W3C traceparent in, server span around every request) and Prometheus metrics."""
from __future__ import annotations

import time

import structlog
from fastapi import FastAPI, Response
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fairway_events.tracing import current_trace_id

tracer = trace.get_tracer("fairway.http")
REQUESTS = Counter("fairway_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
LATENCY = Histogram("fairway_http_request_seconds", "HTTP request latency", ["service", "method", "route"])


class TracingMiddleware:
    """Plain ASGI middleware: Starlette's BaseHTTPMiddleware adds a task and a body stream to every request,
    which cost more CPU than most endpoints themselves."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        token = otel_context.attach(propagate.extract(headers))
        start = time.perf_counter()
        status = 500  # unless the app answers: an exception escaping it becomes a 500 further out

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        method = scope["method"]
        try:
            with tracer.start_as_current_span(f"{method} {scope['path']}", kind=trace.SpanKind.SERVER):
                structlog.contextvars.clear_contextvars()
                structlog.contextvars.bind_contextvars(service=self.service, trace_id=current_trace_id())
                await self.app(scope, receive, send_and_note_status)
        finally:
            otel_context.detach(token)
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(self.service, method, route, str(status)).inc()
            LATENCY.labels(self.service, method, route).observe(time.perf_counter() - start)


def configure_tracing(service: str) -> None:
    """A real tracer provider, so every request and event gets a trace id even without an incoming one.

    Spans are exported only when an exporter is configured (OTEL_TRACES_EXPORTER=otlp in a deployment, console for
    a quick look); the ids still travel in logs and Kafka headers.
    """
    import os

    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return  # already configured (several services in one test process)
    provider = TracerProvider(resource=Resource.create({"service.name": f"fairway-{service}"}))
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "none")
    if exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    elif exporter == "otlp":
        # Deployments send spans to a collector (OTEL_EXPORTER_OTLP_ENDPOINT, the standard OTel variables).
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def metrics_endpoint(app: FastAPI) -> None:
    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
