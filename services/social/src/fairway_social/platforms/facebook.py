"""Facebook Login and the Graph API: page posts and Instagram content publishing (both on page tokens).

A Facebook consent yields a short-lived user token, exchanged at once for a long-lived one; page tokens read with
it from `/me/accounts` do not expire, so Facebook and Instagram connections have nothing to refresh: they are
valid until revoked (Graph error 190), which the publisher turns into NEEDS_RECONNECT.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from fairway_social.platforms.base import (
    OPTIONAL_SCOPES,
    REQUIRED_SCOPES,
    Account,
    Content,
    Metrics,
    OutcomeUnknown,
    Platform,
    Published,
    RateLimited,
    Rejected,
    TokenRevoked,
    TokenSet,
    Transient,
)
from fairway_social.settings import Settings

RATE_CODES = {4, 17, 32, 613, 80001}
TOKEN_REASONS = {
    458: "the app was removed from the Facebook account",
    459: "the Facebook account is checkpointed",
    460: "the Facebook password was changed",
    463: "the Facebook session expired",
    464: "the Facebook account is unconfirmed",
    467: "the access token is no longer valid",
}


def _now() -> datetime:
    return datetime.now(UTC)


class GraphClient:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.s = settings
        self.http = http
        self.base = f"{settings.facebook_graph_url.rstrip('/')}/{settings.graph_version}"

    # -- consent ------------------------------------------------------------------------------------------
    def authorize_url(self, platform: Platform, state: str) -> str:
        scopes = REQUIRED_SCOPES[platform] + OPTIONAL_SCOPES[platform]
        query = urlencode({"client_id": self.s.facebook_app_id, "redirect_uri": self.s.redirect_uri, "state": state,
                           "response_type": "code", "scope": ",".join(scopes)})
        return f"{self.s.facebook_auth_url.rstrip('/')}/{self.s.graph_version}/dialog/oauth?{query}"

    async def exchange_code(self, code: str) -> TokenSet:
        creds = {"client_id": self.s.facebook_app_id, "client_secret": self.s.facebook_app_secret}
        # POSTed as a form: the app secret, the code and the tokens stay out of URLs (and so out of access logs).
        short = await self._call("POST", "/oauth/access_token", data={**creds, "redirect_uri": self.s.redirect_uri,
                                                                      "code": code}, what="exchange the code")
        long = await self._call("POST", "/oauth/access_token", what="get a long-lived token", data={
            **creds, "grant_type": "fb_exchange_token", "fb_exchange_token": short["access_token"]})
        expires = long.get("expires_in")
        return TokenSet(long["access_token"], None, _now() + timedelta(seconds=int(expires)) if expires else None, [])

    async def accounts(self, platform: Platform, user: TokenSet) -> tuple[list[Account], list[str]]:
        """The pages (or their Instagram business accounts) the consent reached, and the scopes granted."""
        perms = await self._call("GET", "/me/permissions", token=user.access_token, what="read the permissions")
        granted = [p["permission"] for p in perms.get("data", []) if p.get("status") == "granted"]
        pages = await self._call("GET", "/me/accounts", token=user.access_token, what="read the pages", params={
            "fields": "id,name,access_token,category,tasks,instagram_business_account{id,username}"})
        out: list[Account] = []
        for page in pages.get("data", []):
            tokens = TokenSet(page["access_token"], None, None, granted)
            if platform == "FACEBOOK":
                out.append(Account("FACEBOOK", page["id"], page["name"], None, tokens))
            elif ig := page.get("instagram_business_account"):
                out.append(Account("INSTAGRAM", ig["id"], f"{page['name']} (Instagram)", ig.get("username"), tokens))
        return out, granted

    # -- publishing ---------------------------------------------------------------------------------------
    async def publish(self, platform: Platform, account_id: str, token: str, content: Content) -> Published:
        if platform == "INSTAGRAM":
            return await self._publish_instagram(account_id, token, content)
        if len(content.media) == 1:
            m = content.media[0]
            body = await self._call("POST", f"/{account_id}/photos", token=token, creates=True, what="post the photo",
                                    data={"caption": content.text, "published": "true"},
                                    files={"source": ("photo", m.data, m.content_type)})
            post_id = body.get("post_id") or body["id"]
            return Published(post_id, _fb_url(post_id))
        data: dict[str, Any] = {"message": content.text}
        if content.link:
            data["link"] = content.link
        for i, m in enumerate(content.media):  # several photos: uploaded unpublished, then attached to one post
            photo = await self._call("POST", f"/{account_id}/photos", token=token, what="upload a photo",
                                     data={"published": "false"}, files={"source": ("photo", m.data, m.content_type)})
            data[f"attached_media[{i}]"] = json.dumps({"media_fbid": photo["id"]})
        body = await self._call("POST", f"/{account_id}/feed", token=token, data=data, creates=True,
                                what="create the post")
        return Published(body["id"], _fb_url(body["id"]))

    async def _publish_instagram(self, ig_id: str, token: str, content: Content) -> Published:
        if len(content.media) == 1:
            container = await self._call("POST", f"/{ig_id}/media", token=token, what="create the media container",
                                         data={"image_url": content.media[0].url, "caption": content.text})
        else:
            children = []
            for m in content.media:
                child = await self._call("POST", f"/{ig_id}/media", token=token, what="create a carousel item",
                                         data={"image_url": m.url, "is_carousel_item": "true"})
                children.append(child["id"])
            container = await self._call("POST", f"/{ig_id}/media", token=token, what="create the carousel",
                                         data={"media_type": "CAROUSEL", "children": ",".join(children),
                                               "caption": content.text})
        # Containers are invisible until published: creating one again after an error posts nothing twice.
        for _ in range(self.s.instagram_poll_attempts):
            status = await self._call("GET", f"/{container['id']}", token=token, params={"fields": "status_code,status"},
                                      what="check the media container")
            code = status.get("status_code")
            if code == "FINISHED":
                break
            if code in ("ERROR", "EXPIRED"):
                raise Rejected(f"Instagram could not process the media ({status.get('status') or code})")
            await asyncio.sleep(self.s.instagram_poll_seconds)
        else:
            raise Transient("Instagram is still processing the media")
        body = await self._call("POST", f"/{ig_id}/media_publish", token=token, data={"creation_id": container["id"]},
                                creates=True, what="publish the media")
        return Published(body["id"], await self._ig_permalink(body["id"], token))

    async def _ig_permalink(self, media_id: str, token: str) -> str:
        try:
            body = await self._call("GET", f"/{media_id}", token=token, params={"fields": "permalink"},
                                    what="read the permalink")
            return str(body.get("permalink") or f"https://www.instagram.com/p/{media_id}/")
        except (Transient, RateLimited):
            return f"https://www.instagram.com/p/{media_id}/"

    async def find(self, platform: Platform, account_id: str, token: str, since: datetime, text: str) -> Published | None:
        """The post with this text made since `since`, if the platform has it (checking an unknown outcome)."""
        since_epoch = int(since.timestamp())
        if platform == "INSTAGRAM":
            body = await self._call("GET", f"/{account_id}/media", token=token, what="list recent media",
                                    params={"fields": "id,caption,timestamp,permalink", "since": since_epoch,
                                            "limit": 50})
            for item in body.get("data", []):
                if item.get("caption") == text:
                    return Published(item["id"], item.get("permalink") or f"https://www.instagram.com/p/{item['id']}/")
            return None
        body = await self._call("GET", f"/{account_id}/feed", token=token, what="list recent posts",
                                params={"fields": "id,message,created_time,permalink_url", "since": since_epoch,
                                        "limit": 50})
        for item in body.get("data", []):
            if item.get("message") == text:
                return Published(item["id"], item.get("permalink_url") or _fb_url(item["id"]))
        return None

    async def metrics(self, platform: Platform, post_id: str, token: str) -> Metrics:
        if platform == "INSTAGRAM":
            body = await self._call("GET", f"/{post_id}", token=token, what="read the media",
                                    params={"fields": "like_count,comments_count"})
            insights = await self._insights(post_id, token, "impressions,shares")
            return Metrics(likes=int(body.get("like_count", 0)), comments=int(body.get("comments_count", 0)),
                           shares=insights.get("shares", 0), impressions=insights.get("impressions", 0))
        body = await self._call("GET", f"/{post_id}", token=token, what="read the post",
                                params={"fields": "reactions.summary(true),comments.summary(true),shares"})
        insights = await self._insights(post_id, token, "post_impressions,post_clicks")
        return Metrics(likes=int(body.get("reactions", {}).get("summary", {}).get("total_count", 0)),
                       comments=int(body.get("comments", {}).get("summary", {}).get("total_count", 0)),
                       shares=int(body.get("shares", {}).get("count", 0)),
                       impressions=insights.get("post_impressions", 0), clicks=insights.get("post_clicks", 0))

    async def _insights(self, post_id: str, token: str, metrics: str) -> dict[str, int]:
        body = await self._call("GET", f"/{post_id}/insights", token=token, params={"metric": metrics},
                                what="read the insights")
        return {m["name"]: int((m.get("values") or [{}])[0].get("value", 0)) for m in body.get("data", [])}

    # -- transport ----------------------------------------------------------------------------------------
    async def _call(self, method: str, path: str, *, what: str, token: str | None = None, creates: bool = False,
                    params: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
                    files: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"OAuth {token}"} if token else {}
        try:
            r = await self.http.request(method, self.base + path, params=params, data=data, files=files,
                                        headers=headers, timeout=self.s.platform_timeout_seconds)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Transient(f"Facebook could not be reached to {what} ({type(exc).__name__})") from None
        except httpx.TimeoutException:
            if creates:
                raise OutcomeUnknown(f"Facebook did not answer in time when asked to {what}") from None
            raise Transient(f"Facebook did not answer in time when asked to {what}") from None
        except httpx.HTTPError as exc:
            if creates:
                raise OutcomeUnknown(f"the connection to Facebook broke when asked to {what}") from None
            raise Transient(f"Facebook could not be reached to {what} ({type(exc).__name__})") from None
        if r.status_code < 400:
            return r.json()
        raise _error(r, what, creates)


def _error(r: httpx.Response, what: str, creates: bool) -> Exception:
    try:
        err = r.json().get("error") or {}
    except ValueError:
        err = {}
    code, sub = err.get("code"), err.get("error_subcode")
    message = str(err.get("message") or f"HTTP {r.status_code}")
    if code == 190:
        return TokenRevoked(f"Facebook no longer accepts the connection: {TOKEN_REASONS.get(sub, message)}")
    if code == 10 or (isinstance(code, int) and 200 <= code < 300):
        return TokenRevoked(f"Facebook refused permission to {what}: {message}")
    if code in RATE_CODES:
        return RateLimited(f"Facebook rate limit reached ({message})", _regain_at(r))
    if r.status_code >= 500 or code in (1, 2):
        if creates:
            return OutcomeUnknown(f"Facebook answered with an error after being asked to {what}: {message}")
        return Transient(f"Facebook had a temporary problem when asked to {what}: {message}")
    return Rejected(f"Facebook refused to {what}: {message}")


def _regain_at(r: httpx.Response) -> datetime:
    minutes = 0
    try:
        usage = json.loads(r.headers.get("x-business-use-case-usage") or "{}")
        for entries in usage.values():
            for e in entries:
                minutes = max(minutes, int(e.get("estimated_time_to_regain_access", 0)))
    except (ValueError, AttributeError, TypeError):
        pass
    return _now() + timedelta(minutes=minutes or 60)


def _fb_url(post_id: str) -> str:
    page_id, _, story = post_id.partition("_")
    return f"https://www.facebook.com/{page_id}/posts/{story or page_id}"
