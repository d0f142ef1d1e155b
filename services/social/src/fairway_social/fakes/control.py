"""The fakes' control API (`/_fake/...`): what tests and demos tell the platforms to do, and what they saw.

POST /_fake/faults             a fault or a list: {"platform", "op", "kind", "times", "resetIn", "delay", "message"}
POST /_fake/tokens/revoke      {"platform"}: every token of the platform is revoked (the user removed the app)
POST /_fake/tokens/expire      {"platform"}: every access token of the platform expires now
POST /_fake/consent            {"platform", "scopes": [...] | null}: what the user grants at the next consent
POST /_fake/config             {"accessTtl": seconds}: lifetime of X access tokens issued from now on
POST /_fake/engagement         {"postId"?, "likes", "comments", "shares", "impressions", "clicks"}
GET  /_fake/posts?platform=    the posts that exist on the platforms
GET  /_fake/calls?platform=&op= every call received
POST /_fake/reset              forget everything
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from pydantic import TypeAdapter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fairway_social.fakes.state import Fault, State

_FAULTS: TypeAdapter[list[Fault] | Fault] = TypeAdapter(list[Fault] | Fault)


def _family(platform: str) -> set[str]:
    return {"facebook", "instagram"} if platform in ("facebook", "instagram") else {platform}


def routes(state: State) -> list[Route]:
    async def faults(request: Request) -> Response:
        parsed = _FAULTS.validate_json(await request.body())
        state.faults += parsed if isinstance(parsed, list) else [parsed]
        return JSONResponse({"faults": len(state.faults)})

    async def revoke(request: Request) -> Response:
        family = _family((await request.json())["platform"])
        n = 0
        for tok in state.tokens.values():
            if tok.platform in family and not tok.revoked:
                tok.revoked = True
                n += 1
        state.save()
        return JSONResponse({"revoked": n})

    async def expire(request: Request) -> Response:
        family = _family((await request.json())["platform"])
        now = time.time() - 1
        n = 0
        for tok in state.tokens.values():
            if tok.platform in family and tok.kind in ("access", "user", "page"):
                tok.expires_at = now
                n += 1
        state.save()
        return JSONResponse({"expired": n})

    async def consent(request: Request) -> Response:
        body = await request.json()
        state.granted[body["platform"]] = body.get("scopes")
        return JSONResponse({"granted": state.granted})

    async def config(request: Request) -> Response:
        body = await request.json()
        if "accessTtl" in body:
            state.access_ttl = float(body["accessTtl"])
        return JSONResponse({"accessTtl": state.access_ttl})

    async def engagement(request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        targets = [state.posts[body["postId"]]] if body.get("postId") else list(state.posts.values())
        for post in targets:
            for name in ("likes", "comments", "shares", "impressions", "clicks"):
                if name in body:
                    setattr(post, name, int(body[name]))
        state.save()
        return JSONResponse({"updated": len(targets)})

    async def posts(request: Request) -> Response:
        platform = request.query_params.get("platform")
        return JSONResponse([asdict(p) for p in state.posts.values() if platform in (None, p.platform)])

    async def calls(request: Request) -> Response:
        platform, op = request.query_params.get("platform"), request.query_params.get("op")
        return JSONResponse([c for c in state.calls if platform in (None, c["platform"]) and op in (None, c["op"])])

    async def reset(_: Request) -> Response:
        state.reset()
        state.save()
        return JSONResponse({"reset": True})

    return [
        Route("/_fake/faults", faults, methods=["POST"]),
        Route("/_fake/tokens/revoke", revoke, methods=["POST"]),
        Route("/_fake/tokens/expire", expire, methods=["POST"]),
        Route("/_fake/consent", consent, methods=["POST"]),
        Route("/_fake/config", config, methods=["POST"]),
        Route("/_fake/engagement", engagement, methods=["POST"]),
        Route("/_fake/posts", posts, methods=["GET"]),
        Route("/_fake/calls", calls, methods=["GET"]),
        Route("/_fake/reset", reset, methods=["POST"]),
    ]
