"""A fake of Facebook Login and the Graph API (pages and Instagram business accounts), as they answer.

Facebook Login: `/{v}/dialog/oauth` (consent, redirects with a code), `/{v}/oauth/access_token` (code for a
short-lived user token; `grant_type=fb_exchange_token` for a long-lived one). `/me`, `/me/permissions`,
`/me/accounts` (pages with their page tokens, which never expire when asked with a long-lived user token).
Pages: `POST /{page}/feed`, `POST /{page}/photos`, `GET /{page}/feed`, `GET /{post}`, `GET /{post}/insights`.
Instagram content publishing: `POST /{ig}/media` (a container), `GET /{container}?fields=status_code`,
`POST /{ig}/media_publish`, `GET /{ig}/media`, `GET /{media}/insights`.
Errors are Graph error bodies (`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`); every
answer carries `x-app-usage`, a throttled page also `x-business-use-case-usage`.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from fairway_social.fakes.common import bearer, params, stall
from fairway_social.fakes.state import FB_SCOPES, IG_SCOPES, Container, Fault, Page, Platform, Post, State

SHORT_TTL = 3600.0
LONG_TTL = 60 * 86400.0


def _usage(state: State) -> dict[str, str]:
    n = min(100, len(state.calls) % 100)
    return {"x-app-usage": json.dumps({"call_count": n, "total_cputime": n // 2, "total_time": n // 2})}


def graph_error(state: State, message: str, code: int, *, status: int = 400, subcode: int | None = None,
                kind: str = "OAuthException", headers: dict[str, str] | None = None) -> JSONResponse:
    err: dict[str, Any] = {"message": message, "type": kind, "code": code,
                           "fbtrace_id": "A" + secrets.token_hex(10)}
    if subcode is not None:
        err["error_subcode"] = subcode
    return JSONResponse({"error": err}, status_code=status, headers={**_usage(state), **(headers or {})})


def ok(state: State, body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=_usage(state))


def _throttled(state: State, object_id: str, fault: Fault) -> JSONResponse:
    minutes = max(1, math.ceil(fault.resetIn / 60))
    usage = {object_id: [{"type": "pages", "call_count": 100, "total_cputime": 35, "total_time": 40,
                          "estimated_time_to_regain_access": minutes}]}
    return graph_error(state, "(#32) Page request limit reached", 32,
                       headers={"x-business-use-case-usage": json.dumps(usage)})


async def _fault_answer(state: State, platform: Platform, object_id: str, fault: Fault) -> JSONResponse | None:
    """The answer a fault gives before the work is done (None: do the work, see `_after`)."""
    if fault.kind == "rate_limit":
        return _throttled(state, object_id, fault)
    if fault.kind == "reject":
        return graph_error(state, fault.message or "(#368) The action attempted has been deemed abusive or is "
                           "otherwise disallowed", 368, kind="OAuthException")
    if fault.kind == "server_error":
        return graph_error(state, "An unexpected error has occurred. Please retry your request later.", 2,
                           status=500, kind="OAuthException")
    if fault.kind == "revoked":
        return graph_error(state, "Error validating access token: The user has not authorized application "
                           f"{state.client_id}.", 190, subcode=458)
    if fault.kind == "drop":
        await stall(fault.delay)
        return graph_error(state, "Service temporarily unavailable", 2, status=503)
    return None


async def _after(state: State, fault: Fault | None, body: dict[str, Any]) -> JSONResponse:
    """The answer once the work is done: normal, or stalled, or a 5xx although it happened."""
    state.save()
    if fault and fault.kind == "timeout":
        await stall(fault.delay)
    if fault and fault.kind == "accept_then_fail":
        return graph_error(state, "An unknown error has occurred.", 1, status=500)
    return ok(state, body)


def _token_error(state: State, value: str | None) -> JSONResponse | None:
    tok = state.token(value, "facebook")
    if tok is None:
        return graph_error(state, "Invalid OAuth access token - Cannot parse access token", 190)
    if tok.revoked:
        return graph_error(state, "Error validating access token: The session has been invalidated because the "
                           "user changed their password or Facebook has changed the session for security reasons.",
                           190, subcode=460)
    if not tok.live(time.time()):
        return graph_error(state, "Error validating access token: Session has expired.", 190, subcode=463)
    return None


def routes(state: State) -> list[Route]:
    def page(pid: str) -> Page | None:
        return next((p for p in state.pages if p.id == pid), None)

    def page_of_ig(ig: str) -> Page | None:
        return next((p for p in state.pages if p.ig_id == ig), None)

    async def dialog(request: Request) -> Response:
        p = dict(request.query_params)
        if p.get("client_id") != state.client_id:
            return graph_error(state, "Invalid App ID", 101)
        asked = [s for s in str(p.get("scope", "")).replace(" ", ",").split(",") if s]
        platform: Platform = "instagram" if any(s.startswith("instagram_") for s in asked) else "facebook"
        granted = state.granted.get(platform)
        scopes = [s for s in asked if granted is None or s in granted]
        state.record(platform, "authorize", scopes=scopes)
        code = state.issue("facebook", "code", state.fb_user_id, scopes, 600, redirect_uri=p.get("redirect_uri"))
        sep = "&" if "?" in p["redirect_uri"] else "?"
        return RedirectResponse(f"{p['redirect_uri']}{sep}{urlencode({'code': code.value, 'state': p.get('state', '')})}",
                                status_code=302)

    async def access_token(request: Request) -> Response:
        p = await params(request)
        if p.get("client_id") != state.client_id or p.get("client_secret") != state.client_secret:
            return graph_error(state, "Error validating client secret.", 1, subcode=None)
        if fault := state.take_fault("facebook", "token"):
            if (answer := await _fault_answer(state, "facebook", "app", fault)) is not None:
                return answer
        if p.get("grant_type") == "fb_exchange_token":
            short = state.token(p.get("fb_exchange_token"), "facebook")
            if short is None or not short.live(time.time()) or short.kind != "user":
                return graph_error(state, "Error validating access token: Session has expired.", 190, subcode=463)
            state.record("facebook", "token", grant="fb_exchange_token")
            long = state.issue("facebook", "user", short.user_id, short.scopes, LONG_TTL)
            state.save()
            return ok(state, {"access_token": long.value, "token_type": "bearer", "expires_in": int(LONG_TTL)})
        code = state.token(p.get("code"), "facebook")
        if code is None or code.kind != "code" or not code.live(time.time()):
            return graph_error(state, "Invalid verification code format.", 100, subcode=36007)
        if code.used:
            return graph_error(state, "This authorization code has been used.", 100, subcode=36009)
        if code.redirect_uri != p.get("redirect_uri"):
            return graph_error(state, "Error validating verification code. Please make sure your redirect_uri is "
                               "identical to the one you used in the OAuth dialog request", 100, subcode=36008)
        code.used = True
        state.record("facebook", "token", grant="authorization_code")
        user = state.issue("facebook", "user", code.user_id, code.scopes, SHORT_TTL)
        state.save()
        return ok(state, {"access_token": user.value, "token_type": "bearer", "expires_in": int(SHORT_TTL)})

    async def me(request: Request) -> Response:
        p = await params(request)
        tok_value = bearer(request, p)
        if err := _token_error(state, tok_value):
            return err
        tok = state.tokens[tok_value or ""]
        rest = request.path_params.get("rest", "")
        state.record("facebook", "me", what=rest or "me")
        if rest == "permissions":
            declined = [s for s in FB_SCOPES + IG_SCOPES if s not in tok.scopes]
            return ok(state, {"data": [{"permission": s, "status": "granted"} for s in tok.scopes]
                              + [{"permission": s, "status": "declined"} for s in dict.fromkeys(declined)]})
        if rest == "accounts":
            ttl = None if (tok.expires_at or 0) - time.time() > SHORT_TTL * 2 else SHORT_TTL
            data = []
            for pg in state.pages:
                pt = state.issue("facebook", "page", tok.user_id, tok.scopes, ttl, page_id=pg.id)
                entry: dict[str, Any] = {"id": pg.id, "name": pg.name, "category": pg.category,
                                         "access_token": pt.value, "tasks": ["MANAGE", "CREATE_CONTENT"]}
                if pg.ig_id:
                    entry["instagram_business_account"] = {"id": pg.ig_id, "username": pg.ig_username}
                data.append(entry)
            state.save()
            return ok(state, {"data": data, "paging": {"cursors": {"before": "QVFI", "after": "QVFI"}}})
        return ok(state, {"id": tok.user_id, "name": "Morag Fairbairn"})

    async def graph(request: Request) -> Response:
        p = await params(request)
        parts = request.path_params["rest"].strip("/").split("/")
        tok_value = bearer(request, p)
        if err := _token_error(state, tok_value):
            return err
        tok = state.tokens[tok_value or ""]
        obj, edge = parts[0], (parts[1] if len(parts) > 1 else "")
        method = request.method
        if page(obj) is not None:
            return await page_edge(request, tok, page(obj), edge, p)  # type: ignore[arg-type]
        if page_of_ig(obj) is not None:
            return await ig_edge(request, tok, obj, edge, p)
        if obj in state.containers and method == "GET":
            c = state.containers[obj]
            state.record("instagram", "status", container=obj)
            return ok(state, {"id": c.id, "status_code": c.status,
                              "status": "Error: Media upload has failed with error code 2207001" if c.status == "ERROR"
                              else c.status})
        if obj in state.posts and method == "GET":
            return await object_read(tok, state.posts[obj], edge, p)
        return graph_error(state, f"Unsupported {method.lower()} request. Object with ID '{obj}' does not exist, "
                           "cannot be loaded due to missing permissions, or does not support this operation.", 100,
                           subcode=33, kind="GraphMethodException")

    async def page_edge(request: Request, tok: Any, pg: Page, edge: str, p: dict[str, Any]) -> Response:
        if tok.kind != "page" or tok.page_id != pg.id:
            return graph_error(state, "(#200) The page access token is required for this action", 200)
        if request.method == "GET" and edge == "feed":
            state.record("facebook", "lookup", page=pg.id)
            since = float(p.get("since", 0))
            data = [{"id": x.id, "message": x.text, "created_time": _iso(x.created_at),
                     "permalink_url": _fb_url(x.id)}
                    for x in sorted(state.posts_of("facebook"), key=lambda x: -x.created_at)
                    if x.account_id == pg.id and x.created_at >= since]
            return ok(state, {"data": data[: int(p.get("limit", 25))]})
        if request.method == "GET" and edge == "":
            body: dict[str, Any] = {"id": pg.id, "name": pg.name}
            if pg.ig_id:
                body["instagram_business_account"] = {"id": pg.ig_id, "username": pg.ig_username}
            return ok(state, body)
        if request.method != "POST" or edge not in ("feed", "photos"):
            return graph_error(state, "(#100) Unknown path components", 100)
        if "pages_manage_posts" not in tok.scopes:
            return graph_error(state, "(#200) Requires pages_manage_posts permission to manage the object", 200)
        op = "publish" if edge == "feed" or str(p.get("published", "true")).lower() != "false" else "media"
        fault = state.take_fault("facebook", op)
        if fault and (answer := await _fault_answer(state, "facebook", pg.id, fault)) is not None:
            return answer
        state.record("facebook", op, edge=edge, message=p.get("message") or p.get("caption"))
        if edge == "photos":
            photo_id = state.next_id()
            state.media[photo_id] = {"url": p.get("url"), "source": p.get("source")}
            if op == "media":
                return await _after(state, fault, {"id": photo_id})
            post = Post(f"{pg.id}_{state.next_id()}", "facebook", pg.id, str(p.get("caption") or p.get("message") or ""),
                        time.time(), media=[photo_id])
            state.posts[post.id] = post
            return await _after(state, fault, {"id": photo_id, "post_id": post.id})
        message = str(p.get("message") or "")
        if not message and not p.get("link"):
            return graph_error(state, "(#100) Param message must be non-empty", 100)
        if any(x.text == message and x.account_id == pg.id and time.time() - x.created_at < 600
               for x in state.posts_of("facebook")) and message:
            return graph_error(state, "(#506) Duplicate status message", 506)
        media = [json.loads(v)["media_fbid"] if isinstance(v, str) else v["media_fbid"]
                 for k, v in sorted(p.items()) if k.startswith("attached_media")]
        post = Post(f"{pg.id}_{state.next_id()}", "facebook", pg.id, message, time.time(), link=p.get("link"),
                    media=media)
        state.posts[post.id] = post
        return await _after(state, fault, {"id": post.id})

    async def ig_edge(request: Request, tok: Any, ig: str, edge: str, p: dict[str, Any]) -> Response:
        pg = page_of_ig(ig)
        assert pg is not None
        if tok.kind != "page" or tok.page_id != pg.id:
            return graph_error(state, "(#200) The page access token is required for this action", 200)
        if request.method == "GET" and edge == "media":
            state.record("instagram", "lookup", account=ig)
            since = float(p.get("since", 0))
            data = [{"id": x.id, "caption": x.text, "timestamp": _iso(x.created_at), "permalink": _ig_url(x.id)}
                    for x in sorted(state.posts_of("instagram"), key=lambda x: -x.created_at)
                    if x.account_id == ig and x.created_at >= since]
            return ok(state, {"data": data[: int(p.get("limit", 25))]})
        if request.method == "GET" and edge == "":
            return ok(state, {"id": ig, "username": pg.ig_username, "name": pg.name})
        if request.method != "POST" or edge not in ("media", "media_publish"):
            return graph_error(state, "(#100) Unknown path components", 100)
        if "instagram_content_publish" not in tok.scopes:
            return graph_error(state, "(#10) Application does not have permission for this action", 10)
        if edge == "media":
            fault = state.take_fault("instagram", "media")
            if fault and (answer := await _fault_answer(state, "instagram", ig, fault)) is not None:
                return answer
            caption = str(p.get("caption") or "")
            if len(caption) > 2200:
                return graph_error(state, "(#100) The caption is too long (max 2200 characters)", 100,
                                   subcode=2207010)
            children = [c for c in str(p.get("children") or "").split(",") if c]
            if not p.get("image_url") and not children and not p.get("video_url"):
                return graph_error(state, "(#100) The parameter image_url is required.", 100)
            c = Container(state.next_id(17), ig, caption, p.get("image_url"), children=children,
                          is_carousel_item=str(p.get("is_carousel_item", "")).lower() == "true")
            state.containers[c.id] = c
            state.record("instagram", "media", container=c.id)
            if fault and fault.kind == "accept_then_fail":
                c.status = "ERROR"
                fault = None
            return await _after(state, fault, {"id": c.id})
        c = state.containers.get(str(p.get("creation_id")))
        if c is None:
            return graph_error(state, "(#100) Invalid parameter", 100, subcode=2207008)
        if c.status != "FINISHED":
            return graph_error(state, "Media ID is not available", 9007, subcode=2207027)
        if c.published_id:
            return graph_error(state, "(#9007) The media has already been published", 9007, subcode=2207006)
        fault = state.take_fault("instagram", "publish")
        if fault and (answer := await _fault_answer(state, "instagram", ig, fault)) is not None:
            return answer
        post = Post(state.next_id(17), "instagram", ig, c.caption, time.time(),
                    media=[c.image_url or ""] if c.image_url else list(c.children))
        state.posts[post.id] = post
        c.published_id = post.id
        c.status = "PUBLISHED"
        state.record("instagram", "publish", container=c.id, message=c.caption)
        return await _after(state, fault, {"id": post.id})

    async def object_read(tok: Any, post: Post, edge: str, p: dict[str, Any]) -> Response:
        platform: Platform = post.platform
        fault = state.take_fault(platform, "metrics")
        if fault and (answer := await _fault_answer(state, platform, post.account_id, fault)) is not None:
            return answer
        state.record(platform, "metrics", post=post.id)
        if edge == "insights":
            names = str(p.get("metric", "")).split(",")
            values = {"post_impressions": post.impressions, "post_clicks": post.clicks,
                      "impressions": post.impressions, "reach": post.impressions, "shares": post.shares,
                      "total_interactions": post.likes + post.comments + post.shares}
            return ok(state, {"data": [{"name": n, "period": "lifetime", "values": [{"value": values.get(n, 0)}],
                                        "id": f"{post.id}/insights/{n}/lifetime"} for n in names if n]})
        if platform == "instagram":
            return ok(state, {"id": post.id, "caption": post.text, "permalink": _ig_url(post.id),
                              "like_count": post.likes, "comments_count": post.comments,
                              "timestamp": _iso(post.created_at)})
        return ok(state, {"id": post.id, "message": post.text, "permalink_url": _fb_url(post.id),
                          "created_time": _iso(post.created_at),
                          "reactions": {"data": [], "summary": {"total_count": post.likes}},
                          "comments": {"data": [], "summary": {"total_count": post.comments}},
                          "shares": {"count": post.shares}})

    return [
        Route("/{v:str}/dialog/oauth", dialog, methods=["GET"]),
        Route("/{v:str}/oauth/access_token", access_token, methods=["GET", "POST"]),
        Route("/{v:str}/me", me, methods=["GET"]),
        Route("/{v:str}/me/{rest:str}", me, methods=["GET"]),
        Route("/{v:str}/{rest:path}", graph, methods=["GET", "POST"]),
    ]


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(ts))


def _fb_url(post_id: str) -> str:
    page_id, _, story = post_id.partition("_")
    return f"https://www.facebook.com/{page_id}/posts/{story}"


def _ig_url(media_id: str) -> str:
    return f"https://www.instagram.com/p/{media_id[-11:]}/"
