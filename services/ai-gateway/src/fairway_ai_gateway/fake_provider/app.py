"""A local fake of the Anthropic Messages API (POST /v1/messages), for development and tests.

It records every request it receives (so tests can prove what left the gateway) and answers from a script
when one matches, else with a sensible default: canned criteria for the AI spec's example segment queries,
generated-looking variants for content requests.

Script entries (POST /_fake/script, a list or one object):
  {"kind": "json", "body": {...}}            200, the JSON as the model's text
  {"kind": "text", "text": "..."}            200, any text (malformed JSON, a malicious answer, ...)
  {"kind": "error", "status": 429, "retryAfter": 1}   an API error (429, 500, 529, ...), retry-after header
  {"kind": "default"}                        the default answer (with "delay" this is a slow answer)
  common: "delay" seconds before answering, "match" a substring the request must contain, "model" the model
  it must ask for, "times" how many
  requests it answers (default 1, -1 for every one), "usage" {"input_tokens": n, "output_tokens": n}.
GET /_fake/requests lists recorded requests; POST /_fake/reset clears scripts and records.
"""

from __future__ import annotations

import asyncio
import html
import json
import math
import re
import time
from typing import Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fairway_ai_gateway.fake_provider.canned import content_answer, segment_answer

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class ScriptEntry(BaseModel):
    kind: Literal["json", "text", "error", "default"] = "default"
    body: Any = None
    text: str | None = None
    status: int = 200
    retryAfter: float | None = None
    delay: float = Field(default=0, ge=0, le=120)
    match: str | None = None
    model: str | None = None  # only requests for this model
    times: int = 1
    usage: dict[str, int] | None = None


_SCRIPT: TypeAdapter[list[ScriptEntry] | ScriptEntry] = TypeAdapter(list[ScriptEntry] | ScriptEntry)
_DEFAULT = ScriptEntry()


class FakeState:
    def __init__(self) -> None:
        self.scripts: list[ScriptEntry] = []
        self.requests: list[dict[str, Any]] = []
        self.counter = 0

    def script(self, *entries: ScriptEntry | dict[str, Any]) -> None:
        self.scripts += [e if isinstance(e, ScriptEntry) else ScriptEntry.model_validate(e) for e in entries]

    def reset(self) -> None:
        self.scripts.clear()
        self.requests.clear()

    def take(self, haystack: str, model: str | None = None) -> ScriptEntry | None:
        for entry in self.scripts:
            if (entry.match is None or entry.match in haystack) and (
                entry.model is None or entry.model == model
            ):
                if entry.times > 0:
                    entry.times -= 1
                    if entry.times == 0:
                        self.scripts.remove(entry)
                return entry
        return None


def _texts(body: dict[str, Any]) -> tuple[str, str]:
    system = body.get("system") or ""
    if isinstance(system, list):
        system = " ".join(b.get("text", "") for b in system if isinstance(b, dict))
    user = []
    for m in body.get("messages") or []:
        content = m.get("content")
        if isinstance(content, str):
            user.append(content)
        elif isinstance(content, list):
            user += [b.get("text", "") for b in content if isinstance(b, dict)]
    return str(system), "\n".join(user)


def default_answer(system: str, user: str) -> str:
    if "segment rule generator" in system:
        m = re.search(r"<query>(.*?)</query>", user, re.DOTALL)
        return json.dumps(segment_answer(html.unescape(m.group(1)) if m else ""))
    n = int(m.group(1)) if (m := re.search(r"Generate (\d+)", user)) else 3
    limit = int(m.group(1)) if (m := re.search(r"Max (\d+) characters", user)) else 160
    tokens = re.findall(
        r"\{\{(\w+)\}\}", system.split("Available personalisation tokens", 1)[-1].split("\n")[0]
    )
    return json.dumps(content_answer(n, limit, tokens, html="simple HTML" in user))


def create_fake_app(state: FakeState | None = None) -> Starlette:
    """A plain Starlette app (no FastAPI dependency solving or OpenAPI): the fake must cost little CPU per call,
    as it shares the machine with the gateway it is benchmarked against."""
    state = state or FakeState()

    async def messages(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            return JSONResponse(
                {"type": "error", "error": {"type": "invalid_request_error", "message": "body is not JSON"}},
                status_code=400,
            )
        # SDK versions differ: older ones send x-api-key, newer ones a bearer token.
        credential = (
            request.headers.get("x-api-key")
            or request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        )
        state.requests.append(
            {
                "at": time.time(),
                "path": request.url.path,
                "body": body,
                "raw": raw.decode(errors="replace"),
                "apiKeyPresent": bool(credential),
                "anthropicVersion": request.headers.get("anthropic-version"),
            }
        )
        if not credential:
            return JSONResponse(
                {
                    "type": "error",
                    "error": {"type": "authentication_error", "message": "an API key is required"},
                },
                status_code=401,
            )
        system, user = _texts(body)
        entry = state.take(system + "\n" + user, body.get("model")) or _DEFAULT
        if entry.delay:
            await asyncio.sleep(entry.delay)
        if entry.kind == "error":
            headers = {"retry-after": f"{entry.retryAfter:g}"} if entry.retryAfter is not None else {}
            return JSONResponse(
                {
                    "type": "error",
                    "error": {
                        "type": ERROR_TYPES.get(entry.status, "api_error"),
                        "message": f"scripted {entry.status}",
                    },
                },
                status_code=entry.status,
                headers=headers,
            )
        if entry.kind == "json":
            text = json.dumps(entry.body)
        elif entry.kind == "text":
            text = entry.text or ""
        else:
            text = default_answer(system, user)
        state.counter += 1
        usage = entry.usage or {
            "input_tokens": math.ceil(len(system + user) / 4),
            "output_tokens": math.ceil(len(text) / 4),
        }
        return JSONResponse(
            {
                "id": f"msg_fake_{state.counter:06d}",
                "type": "message",
                "role": "assistant",
                "model": body.get("model", "unknown"),
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": usage,
            }
        )

    async def script(request: Request) -> Response:
        try:
            entries = _SCRIPT.validate_json(await request.body())
        except ValidationError as exc:
            return JSONResponse(
                {"detail": exc.errors(include_url=False, include_context=False)}, status_code=422
            )
        state.script(*(entries if isinstance(entries, list) else [entries]))
        return JSONResponse({"scripts": len(state.scripts)})

    async def requests(request: Request) -> Response:
        return JSONResponse(state.requests)

    async def reset(request: Request) -> Response:
        state.reset()
        return JSONResponse({"status": "reset"})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/v1/messages", messages, methods=["POST"]),
            Route("/_fake/script", script, methods=["POST"]),
            Route("/_fake/requests", requests, methods=["GET"]),
            Route("/_fake/reset", reset, methods=["POST"]),
            Route("/_fake/health", health, methods=["GET"]),
        ]
    )
    app.state.fake = state
    return app
