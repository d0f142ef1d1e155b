"""What the fake platforms remember: accounts, tokens, posts, faults to inject, and every call they received.

Everything is in memory (optionally saved to a JSON file, so `make up` twice keeps the demo's tokens valid).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

Platform = Literal["facebook", "instagram", "x"]
Op = Literal["authorize", "token", "refresh", "me", "publish", "media", "status", "lookup", "metrics"]
FaultKind = Literal[
    "rate_limit",  # 429 (X) or Graph error 32 with usage headers; nothing happens
    "timeout",  # the action happens, then the answer stalls for `delay` seconds (the caller sees a timeout)
    "drop",  # the answer stalls for `delay` seconds and nothing happens
    "reject",  # the content is refused (X 403, Graph error 100/368)
    "accept_then_fail",  # the action happens, then a 5xx answer (or an Instagram container ends in ERROR)
    "server_error",  # 5xx; nothing happens
    "revoked",  # the token is answered as revoked (Graph 190/460, X 401)
]

FB_SCOPES = ["pages_show_list", "pages_manage_posts", "pages_read_engagement", "read_insights"]
IG_SCOPES = ["instagram_basic", "instagram_content_publish", "instagram_manage_insights", "pages_show_list"]
X_SCOPES = ["tweet.read", "tweet.write", "users.read", "offline.access", "media.write"]


class Fault(BaseModel):
    platform: Platform
    op: Op
    kind: FaultKind
    times: int = 1  # -1: every call
    resetIn: float = Field(default=60, ge=0)  # rate_limit: seconds until the window resets
    delay: float = Field(default=30, ge=0, le=600)  # timeout / drop
    message: str | None = None


@dataclass
class Token:
    value: str
    platform: Platform
    kind: Literal["code", "user", "page", "access", "refresh"]
    user_id: str
    scopes: list[str]
    expires_at: float | None = None  # epoch seconds; None: never (page tokens from a long-lived user token)
    revoked: bool = False
    used: bool = False  # codes and X refresh tokens are single-use
    redirect_uri: str | None = None
    code_challenge: str | None = None
    page_id: str | None = None

    def live(self, now: float) -> bool:
        return not self.revoked and (self.expires_at is None or self.expires_at > now)


@dataclass
class Post:
    id: str
    platform: Platform
    account_id: str
    text: str
    created_at: float
    link: str | None = None
    media: list[str] = field(default_factory=list)
    likes: int = 0
    comments: int = 0
    shares: int = 0
    impressions: int = 0
    clicks: int = 0


@dataclass
class Container:
    """An Instagram media container: created, then FINISHED (or ERROR), then published once."""

    id: str
    account_id: str
    caption: str
    image_url: str | None
    status: str = "FINISHED"
    children: list[str] = field(default_factory=list)
    published_id: str | None = None
    is_carousel_item: bool = False


@dataclass
class Page:
    id: str
    name: str
    category: str
    ig_id: str | None = None
    ig_username: str | None = None


@dataclass
class State:
    fb_user_id: str = "10228451190012345"
    pages: list[Page] = field(default_factory=lambda: [
        Page("104857600123456", "Stonehaven Golf Club", "Golf Course & Country Club", "17841400000000001",
             "stonehavengolf"),
    ])
    x_user: dict[str, str] = field(default_factory=lambda: {
        "id": "1450000000000000001", "name": "Stonehaven Golf Club", "username": "stonehavengolf"})
    # the scopes the user grants at the next consent (None: whatever was asked for)
    granted: dict[str, list[str] | None] = field(default_factory=lambda: {"facebook": None, "instagram": None,
                                                                         "x": None})
    tokens: dict[str, Token] = field(default_factory=dict)
    posts: dict[str, Post] = field(default_factory=dict)
    containers: dict[str, Container] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    client_id: str = "fairway-local"
    client_secret: str = "fairway-local-secret"  # noqa: S105 (the fake's own, published in the README)
    access_ttl: float = 7200.0  # X access tokens live two hours, as on X
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    path: Path | None = None
    _seq: int = 0

    # -- identities ------------------------------------------------------------------------------------
    def next_id(self, width: int = 15) -> str:
        self._seq += 1
        return f"{int(time.time() * 1000) % 10**9:09d}{self._seq:0{width - 9}d}"

    def issue(self, platform: Platform, kind: str, user_id: str, scopes: list[str], ttl: float | None,
              **extra: Any) -> Token:
        prefix = {"facebook": "EAAG", "instagram": "EAAG", "x": ""}[platform]
        value = prefix + secrets.token_urlsafe(32)
        tok = Token(value, platform, kind, user_id, scopes,  # type: ignore[arg-type]
                    expires_at=None if ttl is None else time.time() + ttl, **extra)
        self.tokens[value] = tok
        return tok

    def token(self, value: str | None, platform: Platform | None = None) -> Token | None:
        tok = self.tokens.get(value or "")
        if tok is None or (platform and tok.platform != platform and {tok.platform, platform} != {"facebook",
                                                                                                  "instagram"}):
            return None
        return tok

    # -- faults and records ----------------------------------------------------------------------------
    def take_fault(self, platform: Platform, op: str) -> Fault | None:
        for f in self.faults:
            if f.platform == platform and f.op == op:
                if f.times > 0:
                    f.times -= 1
                    if f.times == 0:
                        self.faults.remove(f)
                return f
        return None

    def record(self, platform: Platform, op: str, **details: Any) -> None:
        self.calls.append({"platform": platform, "op": op, "at": time.time(), **details})

    def count(self, platform: Platform, op: str) -> int:
        return sum(1 for c in self.calls if c["platform"] == platform and c["op"] == op)

    def posts_of(self, platform: Platform) -> list[Post]:
        return [p for p in self.posts.values() if p.platform == platform]

    # -- persistence ----------------------------------------------------------------------------------
    def save(self) -> None:
        if self.path is None:
            return
        data = {"tokens": [asdict(t) for t in self.tokens.values()], "posts": [asdict(p) for p in self.posts.values()]}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self.path)

    def load(self, path: Path) -> None:
        self.path = path
        if path.exists():
            data = json.loads(path.read_text())
            self.tokens = {t["value"]: Token(**t) for t in data.get("tokens", [])}
            self.posts = {p["id"]: Post(**p) for p in data.get("posts", [])}

    def reset(self) -> None:
        self.tokens.clear()
        self.posts.clear()
        self.containers.clear()
        self.faults.clear()
        self.calls.clear()
        self.granted = {"facebook": None, "instagram": None, "x": None}
