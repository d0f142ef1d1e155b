"""A fake of X's OAuth 2.0 (authorization code with PKCE, single-use rotating refresh tokens) and API v2.

`/i/oauth2/authorize` (consent, redirects with a code), `POST /2/oauth2/token` (code + verifier, or a refresh
token: each refresh token works once and the answer carries the next one), `POST /2/oauth2/revoke`,
`GET /2/users/me`, `POST /2/media/upload`, `POST /2/tweets`, `GET /2/users/{id}/tweets`, `GET /2/tweets/{id}`.
Errors are X's problem bodies (`{"title", "detail", "type", "status"}`); every API answer carries
`x-rate-limit-limit`, `x-rate-limit-remaining` and `x-rate-limit-reset` (epoch seconds).
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from fairway_social.fakes.common import bearer, params, stall
from fairway_social.fakes.state import Fault, Post, State, Token

LIMIT = 200  # tweets per 15-minute window (per user), as X's Basic tier


def _window_reset() -> int:
    now = int(time.time())
    return now - now % 900 + 900


def problem(status: int, title: str, detail: str, *, kind: str = "about:blank",
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"title": title, "detail": detail, "type": kind, "status": status, **extra},
                        status_code=status, headers=headers)


def _limits(remaining: int, reset: int) -> dict[str, str]:
    return {"x-rate-limit-limit": str(LIMIT), "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(reset)}


def _oauth_error(description: str = "Value passed for the token was invalid.") -> JSONResponse:
    return JSONResponse({"error": "invalid_request", "error_description": description}, status_code=400)


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def routes(state: State) -> list[Route]:
    def ok(body: Any, status: int = 200) -> JSONResponse:
        mine = sum(1 for p in state.posts_of("x") if p.created_at > _window_reset() - 900)
        return JSONResponse(body, status_code=status, headers=_limits(max(0, LIMIT - mine), _window_reset()))

    async def fault_answer(fault: Fault) -> Response | None:
        if fault.kind == "rate_limit":
            return problem(429, "Too Many Requests", "Too Many Requests",
                           headers=_limits(0, int(time.time() + fault.resetIn + 0.999)))
        if fault.kind == "reject":
            return problem(403, "Forbidden", fault.message or "You are not allowed to create a Tweet with "
                           "duplicate content.")
        if fault.kind == "server_error":
            return problem(503, "Service Unavailable", "Service Unavailable")
        if fault.kind == "revoked":
            return problem(401, "Unauthorized", "Unauthorized")
        if fault.kind == "drop":
            await stall(fault.delay)
            return problem(503, "Service Unavailable", "Service Unavailable")
        return None

    async def after(fault: Fault | None, body: Any, status: int = 200) -> Response:
        state.save()
        if fault and fault.kind == "timeout":
            await stall(fault.delay)
        if fault and fault.kind == "accept_then_fail":
            return problem(503, "Service Unavailable", "Service Unavailable")
        return ok(body, status)

    def user_token(request: Request, p: dict[str, Any]) -> Token | JSONResponse:
        tok = state.token(bearer(request, p), "x")
        if tok is None or tok.kind != "access" or not tok.live(time.time()):
            return problem(401, "Unauthorized", "Unauthorized")
        return tok

    async def authorize(request: Request) -> Response:
        p = dict(request.query_params)
        if p.get("client_id") != state.client_id or p.get("response_type") != "code":
            return problem(400, "Invalid Request", "Something went wrong. You weren't able to give access to the App.")
        if p.get("code_challenge_method") != "S256" or not p.get("code_challenge"):
            return problem(400, "Invalid Request", "code_challenge with code_challenge_method=S256 is required")
        asked = [s for s in p.get("scope", "").split(" ") if s]
        granted = state.granted.get("x")
        scopes = [s for s in asked if granted is None or s in granted]
        state.record("x", "authorize", scopes=scopes)
        code = state.issue("x", "code", state.x_user["id"], scopes, 30, redirect_uri=p.get("redirect_uri"),
                           code_challenge=p["code_challenge"])
        sep = "&" if "?" in p["redirect_uri"] else "?"
        return RedirectResponse(f"{p['redirect_uri']}{sep}{urlencode({'state': p.get('state', ''), 'code': code.value})}",
                                status_code=302)

    async def token(request: Request) -> Response:
        p = await params(request)
        client = p.get("client_id")
        auth = request.headers.get("authorization", "")
        if auth.startswith("Basic "):
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            if secret != state.client_secret:
                return JSONResponse({"error": "unauthorized_client", "error_description": "Missing valid "
                                     "authorization header"}, status_code=401)
            client = cid
        if client != state.client_id:
            return JSONResponse({"error": "unauthorized_client", "error_description": "Missing valid authorization "
                                 "header"}, status_code=401)
        grant = p.get("grant_type")
        op = "refresh" if grant == "refresh_token" else "token"
        fault = state.take_fault("x", op)
        if fault and (answer := await fault_answer(fault)) is not None:
            return answer
        now = time.time()
        if grant == "authorization_code":
            code = state.token(p.get("code"), "x")
            if (code is None or code.kind != "code" or code.used or not code.live(now)
                    or code.redirect_uri != p.get("redirect_uri")
                    or _challenge(str(p.get("code_verifier", ""))) != code.code_challenge):
                return _oauth_error()
            code.used = True
            user_id, scopes = code.user_id, code.scopes
        elif grant == "refresh_token":
            old = state.token(p.get("refresh_token"), "x")
            state.record("x", "refresh", valid=bool(old and old.kind == "refresh" and old.live(now) and not old.used))
            if old is None or old.kind != "refresh" or old.used or not old.live(now):
                return _oauth_error()
            old.used = True  # single use: the answer carries the next one
            user_id, scopes = old.user_id, old.scopes
        else:
            return _oauth_error("Missing required parameter [grant_type].")
        if op == "token":
            state.record("x", "token")
        access = state.issue("x", "access", user_id, scopes, state.access_ttl)
        body: dict[str, Any] = {"token_type": "bearer", "expires_in": int(state.access_ttl),
                                "access_token": access.value, "scope": " ".join(scopes)}
        if "offline.access" in scopes:
            body["refresh_token"] = state.issue("x", "refresh", user_id, scopes, 180 * 86400).value
        return await after(fault, body)

    async def revoke(request: Request) -> Response:
        p = await params(request)
        tok = state.token(p.get("token"), "x")
        if tok:
            tok.revoked = True
            state.save()
        return JSONResponse({"revoked": True})

    async def me(request: Request) -> Response:
        p = await params(request)
        tok = user_token(request, p)
        if isinstance(tok, Response):
            return tok
        if fault := state.take_fault("x", "me"):
            if (answer := await fault_answer(fault)) is not None:
                return answer
        state.record("x", "me")
        return ok({"data": dict(state.x_user)})

    async def media_upload(request: Request) -> Response:
        p = await params(request)
        tok = user_token(request, p)
        if isinstance(tok, Response):
            return tok
        if "media.write" not in tok.scopes:
            return problem(403, "Forbidden", "Your client app is not configured with the appropriate oauth1 app "
                           "permissions for this endpoint.", kind="https://api.twitter.com/2/problems/oauth1-permissions")
        fault = state.take_fault("x", "media")
        if fault and (answer := await fault_answer(fault)) is not None:
            return answer
        media = p.get("media")
        if not isinstance(media, dict):
            return problem(400, "Invalid Request", "One or more parameters to your request was invalid.",
                           kind="https://api.twitter.com/2/problems/invalid-request",
                           errors=[{"message": "media is required"}])
        if media["size"] > 5 * 1024 * 1024:
            return problem(400, "Invalid Request", "File size exceeds 5242880 bytes.",
                           kind="https://api.twitter.com/2/problems/invalid-request")
        media_id = state.next_id(19)
        state.media[media_id] = media
        state.record("x", "media", media=media_id)
        return await after(fault, {"data": {"id": media_id, "media_key": f"3_{media_id}", "size": media["size"],
                                            "expires_after_secs": 86400,
                                            "image": {"image_type": media["content_type"]}}})

    async def tweets(request: Request) -> Response:
        p = await params(request)
        tok = user_token(request, p)
        if isinstance(tok, Response):
            return tok
        if "tweet.write" not in tok.scopes:
            return problem(403, "Forbidden", "You are not permitted to perform this action.",
                           kind="https://api.twitter.com/2/problems/not-authorized-for-resource")
        fault = state.take_fault("x", "publish")
        if fault and (answer := await fault_answer(fault)) is not None:
            return answer
        text = str(p.get("text") or "")
        media_ids = list((p.get("media") or {}).get("media_ids") or [])
        if len(text) > 280:
            return problem(400, "Invalid Request", "One or more parameters to your request was invalid.",
                           kind="https://api.twitter.com/2/problems/invalid-request",
                           errors=[{"message": "Your Tweet text is too long. For more information on how X "
                                               "counts characters, visit https://developer.x.com/."}])
        if len(media_ids) > 4 or any(m not in state.media for m in media_ids):
            return problem(400, "Invalid Request", "One or more parameters to your request was invalid.",
                           kind="https://api.twitter.com/2/problems/invalid-request",
                           errors=[{"message": "Your media IDs are invalid."}])
        if any(x.text == text and x.account_id == tok.user_id for x in state.posts_of("x")):
            return problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        post = Post(state.next_id(19), "x", tok.user_id, text, time.time(), media=media_ids)
        state.posts[post.id] = post
        state.record("x", "publish", message=text, post=post.id)
        return await after(fault, {"data": {"id": post.id, "text": text, "edit_history_tweet_ids": [post.id]}}, 201)

    async def user_tweets(request: Request) -> Response:
        p = await params(request)
        tok = user_token(request, p)
        if isinstance(tok, Response):
            return tok
        fault = state.take_fault("x", "lookup")
        if fault and (answer := await fault_answer(fault)) is not None:
            return answer
        state.record("x", "lookup")
        since = _parse_iso(p.get("start_time"))
        data = [{"id": x.id, "text": x.text, "created_at": _iso(x.created_at)}
                for x in sorted(state.posts_of("x"), key=lambda x: -x.created_at)
                if x.account_id == request.path_params["uid"] and x.created_at >= since]
        data = data[: int(p.get("max_results", 10))]
        return ok({"data": data, "meta": {"result_count": len(data)}} if data else {"meta": {"result_count": 0}})

    async def tweet(request: Request) -> Response:
        p = await params(request)
        tok = user_token(request, p)
        if isinstance(tok, Response):
            return tok
        fault = state.take_fault("x", "metrics")
        if fault and (answer := await fault_answer(fault)) is not None:
            return answer
        post = state.posts.get(request.path_params["tid"])
        if post is None or post.platform != "x":
            return ok({"errors": [{"value": request.path_params["tid"], "detail": "Could not find tweet with id",
                                   "title": "Not Found Error", "resource_type": "tweet", "parameter": "id",
                                   "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        state.record("x", "metrics", post=post.id)
        return ok({"data": {"id": post.id, "text": post.text, "created_at": _iso(post.created_at),
                            "public_metrics": {"retweet_count": post.shares, "reply_count": post.comments,
                                               "like_count": post.likes, "quote_count": 0, "bookmark_count": 0,
                                               "impression_count": post.impressions},
                            "non_public_metrics": {"impression_count": post.impressions,
                                                   "url_link_clicks": post.clicks, "user_profile_clicks": 0}}})

    return [
        Route("/i/oauth2/authorize", authorize, methods=["GET"]),
        Route("/2/oauth2/token", token, methods=["POST"]),
        Route("/2/oauth2/revoke", revoke, methods=["POST"]),
        Route("/2/users/me", me, methods=["GET"]),
        Route("/2/media/upload", media_upload, methods=["POST"]),
        Route("/2/tweets", tweets, methods=["POST"]),
        Route("/2/users/{uid}/tweets", user_tweets, methods=["GET"]),
        Route("/2/tweets/{tid}", tweet, methods=["GET"]),
    ]


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


def _parse_iso(value: Any) -> float:
    if not value:
        return 0.0
    from datetime import datetime

    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
