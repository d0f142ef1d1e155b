"""HTTP tracing (W3C traceparent in, server span around every request) and Prometheus metrics."""
from __future__ import annotations

import time

import structlog
from fastapi import FastAPI, Request, Response
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from fairway_events.tracing import current_trace_id

tracer = trace.get_tracer("fairway.http")
REQUESTS = Counter("fairway_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
LATENCY = Histogram("fairway_http_request_seconds", "HTTP request latency", ["service", "method", "route"])


class TracingMiddleware(BaseHTTPMiddleware):
    def __init__(self, app, service: str) -> None:  # noqa: ANN001
        super().__init__(app)
        self.service = service

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        token = otel_context.attach(propagate.extract(dict(request.headers)))
        start = time.perf_counter()
        try:
            with tracer.start_as_current_span(f"{request.method} {request.url.path}", kind=trace.SpanKind.SERVER):
                structlog.contextvars.clear_contextvars()
                structlog.contextvars.bind_contextvars(service=self.service, trace_id=current_trace_id())
                response = await call_next(request)
        finally:
            otel_context.detach(token)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        REQUESTS.labels(self.service, request.method, route, str(response.status_code)).inc()
        LATENCY.labels(self.service, request.method, route).observe(time.perf_counter() - start)
        return response


def configure_tracing(service: str) -> None:
    """A real tracer provider, so every request and event gets a trace id even without an incoming one.

    Spans are exported only when an exporter is configured (OTEL_TRACES_EXPORTER=console for a quick look);
    the ids still travel in logs and Kafka headers.
    """
    import os

    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return  # already configured (several services in one test process)
    provider = TracerProvider(resource=Resource.create({"service.name": f"fairway-{service}"}))
    if os.environ.get("OTEL_TRACES_EXPORTER") == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)


def metrics_endpoint(app: FastAPI) -> None:
    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
