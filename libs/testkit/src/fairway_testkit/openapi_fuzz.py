"""Property-based tests of a service's HTTP API against its own OpenAPI document, with Schemathesis.

The service runs as it does in production: a real uvicorn server on a local port, its lifespan started (database
migrated, broker connected). Schemathesis generates requests from the document (valid and invalid ones, NUL
characters included; a share of JSON bodies also get a lone surrogate) and checks each answer: never a 5xx, a
status code and content type the document lists, a body matching the documented schema. Then a stateful run
follows the links it infers between operations (create, then read, change, delete what was created).
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import random
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI


@dataclass
class FuzzReport:
    operations: int = 0
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def serve_http(app: FastAPI) -> AsyncIterator[str]:
    """Run `app` on a real local HTTP server (lifespan included); yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_config=None,
                                           access_log=False))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(240):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("the server stopped while starting")
                await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 60)


def _poison(value: Any, rnd: random.Random) -> Any:
    """The value with one of its strings (the first found in a random walk) ending in a lone surrogate."""
    if isinstance(value, str):
        return value + "\ud800"
    if isinstance(value, dict) and value:
        key = rnd.choice(list(value))
        return {**value, key: _poison(value[key], rnd)}
    if isinstance(value, list) and value:
        i = rnd.randrange(len(value))
        return [*value[:i], _poison(value[i], rnd), *value[i + 1:]]
    return value


HeadersFor = Callable[[str], dict[str, str]]


def _fuzz_sync(base_url: str, headers_for: HeadersFor, max_examples: int, stateful_steps: int,
               report: FuzzReport, lock: threading.Lock) -> None:
    import hypothesis
    import requests
    import schemathesis
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import strategies as st
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [_no_server_error(), status_code_conformance, content_type_conformance, response_schema_conformance]
    doc = requests.get(f"{base_url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(doc)
    schema.config.update(base_url=base_url)
    session = requests.Session()
    settings = hypothesis.settings(
        max_examples=max_examples, deadline=None, database=None, derandomize=True,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )

    tenants = itertools.count(1)

    def fresh_headers() -> dict[str, str]:
        with lock:
            return headers_for(f"fuzz-{next(tenants)}")

    def note(case: Any, response: Any) -> None:
        with lock:
            report.requests += 1
            report.statuses[response.status_code] = report.statuses.get(response.status_code, 0) + 1

    for result in schema.get_all_operations():
        operation = result.ok()
        report.operations += 1

        @settings
        @given(case=operation.as_strategy(), poison=st.integers(0, 3), rnd=st.randoms(use_true_random=False))
        def run(case: Any, poison: int, rnd: random.Random) -> None:
            headers = fresh_headers()
            if poison == 0 and isinstance(case.body, dict | list):
                # Sent by hand: a lone surrogate only travels as a JSON escape (\ud800), which the client's own
                # encoder refuses to write.
                kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
                kwargs.pop("json", None)
                kwargs["data"] = json.dumps(_poison(case.body, rnd)).encode()
                response = session.request(**kwargs, timeout=60)
            else:
                response = case.call(session=session, headers=headers, timeout=60)
            note(case, response)
            case.validate_response(response, checks=checks)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation is tried; all failures reported together
            report.failures.extend(f"{operation.label}: {text}" for text in _briefs(exc))

    if stateful_steps:
        machine = schema.as_state_machine()

        class Stateful(machine):  # type: ignore[misc, valid-type]
            def setup(self) -> None:  # a scenario: one tenant from its first request to its last
                self.headers = fresh_headers()

            def get_call_kwargs(self, case: Any) -> dict[str, Any]:
                return {"session": session, "headers": self.headers, "timeout": 60}

            def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
                note(case, response)
                # Recorded, not raised: the server's state moves on, so Hypothesis could not replay the sequence
                # to shrink it ("inconsistent data generation"); the failure report carries the request itself.
                try:
                    case.validate_response(response, checks=checks)
                except Exception as exc:
                    with lock:
                        if len(report.failures) < 50:
                            report.failures.extend(f"stateful {case.operation.label}: {text}"
                                                   for text in _briefs(exc))

        try:
            Stateful.run(settings=hypothesis.settings(
                max_examples=stateful_steps, deadline=None, database=None, derandomize=True,
                stateful_step_count=6, phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
        except Exception as exc:
            if "no link definitions" in str(exc):  # nothing to chain: the operations are independent reads
                report.notes.append("stateful: no links between operations")
            else:
                report.failures.extend(f"stateful: {text}" for text in _briefs(exc))
        else:
            report.notes.append("stateful: ran")


_CHECK: Any = None


def _no_server_error() -> Any:
    """Fails on every 500, and on any other 5xx the operation does not document: a route may document that it
    answers 502/504 when a service it depends on is away (segmentation's natural-language builder without the AI
    gateway), which is the truth about the service, not a bug on bad input."""
    global _CHECK
    if _CHECK is None:
        import schemathesis
        from schemathesis.core.failures import ServerError

        @schemathesis.check
        def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
            status = response.status_code
            documented = {str(k) for k in case.operation.definition.raw.get("responses", {})}
            if status >= 500 and (status == 500 or str(status) not in documented):
                raise ServerError(operation=case.operation.label, status_code=status)
            return None

        _CHECK = no_server_error
    return _CHECK


def _leaves(exc: BaseException) -> Iterator[tuple[BaseException, list[str]]]:
    """Each failure in `exc` with the notes it inherits: Schemathesis raises a FailureGroup when several checks
    fail on one response, Hypothesis an ExceptionGroup when it found several distinct bugs in one operation."""
    notes = list(getattr(exc, "__notes__", []))
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            for leaf, inner_notes in _leaves(inner):
                yield leaf, [*inner_notes, *notes]
    else:
        yield exc, notes


def _briefs(exc: BaseException) -> list[str]:
    """Every failure in `exc`, each without the traceback noise: what failed, what came back, how to repeat it."""
    out = []
    for leaf, notes in _leaves(exc):
        title = getattr(leaf, "title", None) or type(leaf).__name__
        message = str(leaf) or getattr(leaf, "message", "")
        lines = [line.strip() for line in "\n".join([message, *notes]).splitlines() if line.strip()]
        keep = [line for line in lines if line.startswith(("- ", "Received", "Documented", "[", "`", "curl"))]
        out.append("\n    ".join([title, *(keep or lines[:12])]))
    return out


# Hostile inputs every operation must refuse with a 4xx naming the part at fault; Schemathesis finds them only by
# luck, so each is sent to every operation it applies to.
_NOT_AN_ID = ("000000000000000000000000000000000000", "not-an-id", "1" * 300)
_BAD_CURSORS = (
    base64.urlsafe_b64encode(b'"zzz"').decode().rstrip("="),  # JSON, but not a key of ours
    base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).decode().rstrip("="),  # nested far too deep
    "not base64 !",
)
_BODY_PROBES: tuple[tuple[str, bytes, int, str], ...] = (
    ("NUL in a string", b'{"name": "a\\u0000b", "x": ["a\\u0000"]}', 422, "body."),
    ("lone surrogate", b'{"name": "a\\ud800", "x": ["\\udfff"]}', 422, "body."),
    ("nested 3000 deep", b'{"a": ' + b"[" * 3000 + b"]" * 3000 + b"}", 422, "body.a"),
)


def _fields(response: httpx.Response) -> list[str]:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return []
    return [d.get("field", "") for d in detail if isinstance(d, dict)] if isinstance(detail, list) else []


async def probe_hostile(http: httpx.AsyncClient, doc: dict[str, Any], headers_for: HeadersFor,
                        max_body_bytes: int) -> tuple[int, list[str]]:
    """Send every operation of `doc` the inputs of issue 19 (ids that are not UUIDs, cursors it did not issue, NUL
    characters, lone surrogates, deep nesting, an oversized body); returns the number of requests and a line per
    answer that is not the documented refusal."""
    failures: list[str] = []
    sent = 0
    headers = headers_for("fuzz-probe")

    async def probe(what: str, method: str, path: str, *, expect: set[int], field: str | None = None,
                    **kwargs: Any) -> None:
        nonlocal sent
        sent += 1
        r = await http.request(method, path, headers={**headers, **kwargs.pop("headers", {})}, **kwargs)
        problems = []
        if r.status_code not in expect:
            problems.append(f"status {r.status_code}, expected {sorted(expect)}")
        elif r.status_code >= 400:
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else None
            if not isinstance(body, dict) or not isinstance(body.get("error"), str):
                problems.append("not the documented error body")
            elif r.status_code == 422 and field is not None and not any(
                    f.startswith(field) or f.rsplit(".", 1)[-1] == field for f in _fields(r)):  # query.cursor
                problems.append(f"422 naming {_fields(r)}, not {field!r}")
        if problems:
            failures.append(f"{method} {path} ({what}): {'; '.join(problems)}: {r.text[:300]}")

    for template, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            params = [*item.get("parameters", []), *operation.get("parameters", [])]
            path_params = [p["name"] for p in params if p.get("in") == "path"]

            def fill(value: str, template: str = template, path_params: list[str] = path_params) -> str:
                for name in path_params:
                    template = template.replace("{" + name + "}", value)
                return template

            sample = fill("00000000-0000-7000-8000-000000000000")
            for value in _NOT_AN_ID if path_params else ():
                await probe(f"path id {value[:12]}", method.upper(), fill(value), expect={404, 422})
            if path_params:
                await probe("NUL in the path", method.upper(), fill("a%00b"), expect={422}, field="path")
            for p in params:
                if p.get("in") != "query":
                    continue
                await probe(f"NUL in query {p['name']}", method.upper(), sample, params={p["name"]: "a\x00b"},
                            expect={422}, field=f"query.{p['name']}")
                if p["name"] == "cursor":
                    for cursor in _BAD_CURSORS:
                        await probe(f"cursor {cursor[:12]}", method.upper(), sample, params={"cursor": cursor},
                                    expect={422, 404}, field="cursor")
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                oversized = b'{"name": "' + b"x" * max_body_bytes + b'"}'  # one past the service's limit
                for what, body, status, field in (*_BODY_PROBES, ("body over the limit", oversized, 413, "")):
                    await probe(what, method.upper(), sample, content=body, expect={status}, field=field,
                                headers={"content-type": "application/json"})
    return sent, failures


async def fuzz_openapi(app: FastAPI, *, headers_for: HeadersFor, max_body_bytes: int, max_examples: int = 25,
                       stateful_steps: int = 20, before: Callable[[str], Any] | None = None) -> FuzzReport:
    """Serve `app` and run Schemathesis against it; `headers_for(tenant)` gives the headers (a bearer token) of
    each example's own tenant. Returns what it sent and every failure (an empty `failures` list is a pass)."""
    report = FuzzReport()
    async with serve_http(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
            assert (await http.get("/healthz")).status_code == 200
            sent, failures = await probe_hostile(http, (await http.get("/openapi.json")).json(), headers_for,
                                                  max_body_bytes)
            report.requests += sent
            report.failures.extend(failures)
        if before is not None:
            await before(base_url)
        await asyncio.to_thread(_fuzz_sync, base_url, headers_for, max_examples, stateful_steps, report,
                                threading.Lock())
    return report
