"""What every request passes before an endpoint sees it, and what happens when an endpoint fails.

`RequestGuard` turns hostile input into a 4xx naming the part at fault, before it can reach PostgreSQL (which
refuses NUL characters and lone surrogates with an error that would otherwise escape as a 500) or Python's
recursive JSON decoder:
- a body larger than `max_body_bytes`: 413;
- a NUL in a query or path value: 422 naming the parameter;
- a JSON body that is not UTF-8, nests deeper than `max_json_depth`, or holds a string (or key) with a NUL or a
  lone surrogate: 422 naming the body path (`body.tags.0`); a text/* body with a NUL byte: 422 naming the body.
The fast path (every ordinary request) is a few C-speed scans of the bytes; only a suspicious body is walked.

`ErrorGuard` answers an exception that escapes an endpoint: one log line with the traceback (not two), a 500 with
the error body, and `Connection: close`, so a keep-alive client does not reuse a connection in an unknown state.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import structlog
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("fairway.http")

MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32

_SUSPICIOUS_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+', re.S)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class Refused(Exception):
    def __init__(self, status: int, error: str, detail: Any) -> None:
        self.status, self.error, self.detail = status, error, detail


def _field(field: str, message: str) -> list[dict[str, str]]:
    return [{"field": field, "message": message}]


def bad_text(value: str) -> str | None:
    """Why PostgreSQL would refuse this text, or None."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if _LONE_SURROGATE.search(value):
        return "must not contain unpaired surrogate characters"
    return None


def is_json(content_type: str | None) -> bool:
    """The bodies FastAPI decodes as JSON: no content type at all, or application/json or application/*+json."""
    if not content_type:
        return True
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


def check_json_body(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise `Refused` for a JSON body the service must not try to use; malformed JSON is left to FastAPI,
    which reports it as a 422 at the position of the error."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(422, "ValidationError", _field("body", f"not UTF-8 (at byte {exc.start})")) from None
    if (body.count(b"[") + body.count(b"{") <= max_depth and b"\x00" not in body
            and not _SUSPICIOUS_ESCAPE.search(body)):
        return  # cannot nest too deep, and no escape that decodes to a NUL or a surrogate
    for path, problem in _walk(text, max_depth):
        raise Refused(422, "ValidationError", _field(".".join(["body", *map(str, path)]), problem))


def _walk(text: str, max_depth: int) -> Iterator[tuple[list[Any], str]]:
    """Yield (path, problem) for the first part of `text` that is nested too deep or holds bad text. A token
    scanner, not a recursive parser, so any depth costs nothing but a list."""
    path: list[Any] = []  # key or index of each open container
    kinds: list[str] = []  # "{" or "["
    expecting_key = False
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok in ("{", "["):
            if len(kinds) >= max_depth:
                yield path, f"nested deeper than {max_depth} levels"
                return
            kinds.append(tok)
            path.append(None if tok == "{" else 0)
            expecting_key = tok == "{"
        elif tok in ("}", "]"):
            if not kinds:
                return  # malformed: FastAPI reports it
            kinds.pop()
            path.pop()
            expecting_key = False
        elif tok == ",":
            if kinds and kinds[-1] == "[" and isinstance(path[-1], int):
                path[-1] += 1
            expecting_key = bool(kinds) and kinds[-1] == "{"
        elif tok == ":":
            expecting_key = False
        elif tok.startswith('"'):
            try:
                value = json.loads(tok)
            except ValueError:
                return  # malformed: FastAPI reports it
            problem = bad_text(value)
            if expecting_key:
                path[-1] = value if problem is None else repr(value)
                if problem:
                    yield path, f"a key {problem}"
                    return
            elif problem:
                yield path, problem
                return


class RequestGuard:
    """Plain ASGI middleware (see observability.TracingMiddleware for why not BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp, *, router: Any = None, max_body_bytes: int = MAX_BODY_BYTES,
                 max_json_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.router = router  # to name the path parameter holding a NUL
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            self._check_url(scope)
            headers = dict(scope["headers"])
            if scope["method"] in ("GET", "HEAD", "OPTIONS") and b"content-length" not in headers \
                    and b"transfer-encoding" not in headers:
                await self.app(scope, receive, send)
                return
            body = await self._read_body(headers, receive)
            content_type = headers.get(b"content-type", b"").decode("latin-1")
            if body and is_json(content_type):
                check_json_body(body, self.max_json_depth)
            elif b"\x00" in body and content_type.lower().startswith("text/"):  # binary uploads may hold NULs
                raise Refused(422, "ValidationError", _field("body", "text must not contain NUL bytes"))
        except Refused as r:
            await _send_json(send, r.status, {"error": r.error, "detail": r.detail})
            return
        await self.app(scope, _replay(body, receive), send)

    def _check_url(self, scope: Scope) -> None:
        query: bytes = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                if "\x00" in name or "\x00" in value:
                    field = f"query.{name}" if "\x00" not in name else "query"
                    raise Refused(422, "ValidationError", _field(field, "must not contain NUL characters"))
        if "\x00" in scope["path"]:
            raise Refused(422, "ValidationError", _field(self._path_field(scope), "must not contain NUL characters"))

    def _path_field(self, scope: Scope) -> str:
        from fastapi.routing import iter_route_contexts

        for route in iter_route_contexts(getattr(self.router, "routes", [])):
            match, child = route.matches(scope)
            if match is Match.FULL:
                for name, value in child.get("path_params", {}).items():
                    if isinstance(value, str) and "\x00" in value:
                        return f"path.{name}"
        return "path"

    async def _read_body(self, headers: dict[bytes, bytes], receive: Receive) -> bytes:
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                raise Refused(400, "BadRequest", "invalid Content-Length") from None
            if size > self.max_body_bytes:
                raise _too_large(self.max_body_bytes)
        chunks, total = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_body_bytes:
                raise _too_large(self.max_body_bytes)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _too_large(limit: int) -> Refused:
    return Refused(413, "PayloadTooLarge", f"the request body is larger than {limit} bytes")


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # later messages: the client disconnecting

    return replay


async def _send_json(send: Send, status: int, content: dict[str, Any], *, close: bool = False) -> None:
    body = json.dumps(content).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ErrorGuard:
    """The last handler of an exception an endpoint did not expect."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def note_start(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, note_start)
        except Exception as exc:
            log.exception("unhandled error", error=repr(exc), method=scope["method"], path=scope["path"])
            if not started:  # else the server closes the half-sent response's connection itself
                await _send_json(send, 500, {"error": "InternalError", "detail": "internal error"}, close=True)
