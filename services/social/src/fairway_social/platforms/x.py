"""X: OAuth 2.0 authorization code with PKCE (S256), single-use rotating refresh tokens, API v2.

An access token lives two hours; each refresh answers with a new access token and a new refresh token and
invalidates the one used, so the caller must store the pair atomically (see connections.service.access_token).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from fairway_social.platforms.base import (
    REQUIRED_SCOPES,
    Account,
    Content,
    Metrics,
    OutcomeUnknown,
    Published,
    RateLimited,
    Rejected,
    TokenRevoked,
    TokenSet,
    Transient,
)
from fairway_social.settings import Settings


def _now() -> datetime:
    return datetime.now(UTC)


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


class XClient:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.s = settings
        self.http = http
        self.api = settings.x_api_url.rstrip("/")

    def authorize_url(self, state: str, challenge: str) -> str:
        query = urlencode({"response_type": "code", "client_id": self.s.x_client_id, "redirect_uri": self.s.redirect_uri,
                           "scope": " ".join(REQUIRED_SCOPES["X"]), "state": state, "code_challenge": challenge,
                           "code_challenge_method": "S256"})
        return f"{self.s.x_auth_url.rstrip('/')}/i/oauth2/authorize?{query}"

    async def exchange_code(self, code: str, verifier: str) -> TokenSet:
        return await self._token({"grant_type": "authorization_code", "code": code, "redirect_uri": self.s.redirect_uri,
                                  "code_verifier": verifier, "client_id": self.s.x_client_id}, "exchange the code")

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token,
                                  "client_id": self.s.x_client_id}, "refresh the token")

    async def account(self, tokens: TokenSet) -> Account:
        body = await self._call("GET", "/2/users/me", tokens.access_token, what="read the account")
        user = body["data"]
        return Account("X", user["id"], user["name"], user.get("username"), tokens)

    async def publish(self, token: str, content: Content) -> Published:
        payload: dict[str, Any] = {"text": content.text}
        if content.media:
            ids = []
            for m in content.media:  # uploads are invisible until a post uses them: safe to repeat
                body = await self._call("POST", "/2/media/upload", token, what="upload the media",
                                        files={"media": ("media", m.data, m.content_type)},
                                        data={"media_category": "tweet_image"})
                ids.append(body["data"]["id"])
            payload["media"] = {"media_ids": ids}
        body = await self._call("POST", "/2/tweets", token, json=payload, creates=True, what="create the post")
        return Published(body["data"]["id"], f"https://x.com/i/web/status/{body['data']['id']}")

    async def find(self, user_id: str, token: str, since: datetime, text: str) -> Published | None:
        body = await self._call("GET", f"/2/users/{user_id}/tweets", token, what="list recent posts", params={
            "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "max_results": 100,
            "tweet.fields": "created_at"})
        for item in body.get("data") or []:
            if item.get("text") == text:
                return Published(item["id"], f"https://x.com/i/web/status/{item['id']}")
        return None

    async def metrics(self, post_id: str, token: str) -> Metrics:
        body = await self._call("GET", f"/2/tweets/{post_id}", token, what="read the metrics",
                                params={"tweet.fields": "public_metrics,non_public_metrics"})
        if "data" not in body:
            raise Rejected("X no longer has the post")
        pub = body["data"].get("public_metrics", {})
        private = body["data"].get("non_public_metrics", {})
        return Metrics(likes=pub.get("like_count", 0), comments=pub.get("reply_count", 0),
                       shares=pub.get("retweet_count", 0) + pub.get("quote_count", 0),
                       impressions=pub.get("impression_count", 0), clicks=private.get("url_link_clicks", 0))

    # -- transport ----------------------------------------------------------------------------------------
    async def _token(self, form: dict[str, str], what: str) -> TokenSet:
        try:
            r = await self.http.post(f"{self.api}/2/oauth2/token", data=form,
                                     auth=(self.s.x_client_id, self.s.x_client_secret),
                                     timeout=self.s.platform_timeout_seconds)
        except httpx.HTTPError as exc:
            raise Transient(f"X could not be reached to {what} ({type(exc).__name__})") from None
        if r.status_code in (400, 401):
            try:
                reason = r.json().get("error_description") or r.json().get("error")
            except ValueError:
                reason = f"HTTP {r.status_code}"
            raise TokenRevoked(f"X refused to {what}: {reason}")
        if r.status_code == 429:
            raise RateLimited("X rate limit reached", _reset_at(r))
        if r.status_code >= 400:
            raise Transient(f"X had a temporary problem when asked to {what} (HTTP {r.status_code})")
        body = r.json()
        expires = body.get("expires_in")
        return TokenSet(body["access_token"], body.get("refresh_token"),
                        _now() + timedelta(seconds=int(expires)) if expires else None,
                        str(body.get("scope", "")).split())

    async def _call(self, method: str, path: str, token: str, *, what: str, creates: bool = False,
                    **kwargs: Any) -> dict[str, Any]:
        try:
            r = await self.http.request(method, self.api + path, headers={"Authorization": f"Bearer {token}"},
                                        timeout=self.s.platform_timeout_seconds, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Transient(f"X could not be reached to {what} ({type(exc).__name__})") from None
        except httpx.TimeoutException:
            if creates:
                raise OutcomeUnknown(f"X did not answer in time when asked to {what}") from None
            raise Transient(f"X did not answer in time when asked to {what}") from None
        except httpx.HTTPError as exc:
            if creates:
                raise OutcomeUnknown(f"the connection to X broke when asked to {what}") from None
            raise Transient(f"X could not be reached to {what} ({type(exc).__name__})") from None
        if r.status_code < 400:
            return r.json()
        try:
            body = r.json()
        except ValueError:
            body = {}
        detail = ((body.get("errors") or [{}])[0].get("message") if body.get("errors") else None) or body.get("detail") \
            or f"HTTP {r.status_code}"
        if r.status_code == 401:
            raise TokenRevoked(f"X no longer accepts the connection ({detail})")
        if r.status_code == 429:
            raise RateLimited("X rate limit reached", _reset_at(r))
        if r.status_code >= 500:
            if creates:
                raise OutcomeUnknown(f"X answered with an error after being asked to {what}: {detail}")
            raise Transient(f"X had a temporary problem when asked to {what}: {detail}")
        raise Rejected(f"X refused to {what}: {detail}")


def _reset_at(r: httpx.Response) -> datetime:
    try:
        return datetime.fromtimestamp(int(r.headers["x-rate-limit-reset"]), UTC)
    except (KeyError, ValueError):
        return _now() + timedelta(minutes=15)  # X's windows are 15 minutes
