"""What every platform client returns and raises. The publisher's decisions hang on which error it is:

- `TokenRevoked`: the account must be reconnected (revoked, expired beyond refresh, scope withdrawn);
- `RateLimited`: nothing happened; try again at `reset_at`;
- `Rejected`: the platform refused the content; retrying the same thing will not help;
- `Transient`: nothing happened (the request never reached the platform, or it answered so); try again later;
- `OutcomeUnknown`: the request may have taken effect (a timeout or a 5xx after sending a create); check first.

Messages never carry a token: they are built from the platform's error text only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Platform = Literal["FACEBOOK", "INSTAGRAM", "X"]
PLATFORMS: tuple[Platform, ...] = ("FACEBOOK", "INSTAGRAM", "X")

REQUIRED_SCOPES: dict[str, list[str]] = {
    "FACEBOOK": ["pages_show_list", "pages_manage_posts", "pages_read_engagement"],
    "INSTAGRAM": ["pages_show_list", "instagram_basic", "instagram_content_publish"],
    "X": ["tweet.read", "tweet.write", "users.read", "offline.access", "media.write"],
}
OPTIONAL_SCOPES: dict[str, list[str]] = {
    "FACEBOOK": ["read_insights"],
    "INSTAGRAM": ["instagram_manage_insights"],
    "X": [],
}


class PlatformError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TokenRevoked(PlatformError):
    pass


class RateLimited(PlatformError):
    def __init__(self, message: str, reset_at: datetime) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class Rejected(PlatformError):
    pass


class Transient(PlatformError):
    pass


class OutcomeUnknown(PlatformError):
    pass


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scopes: list[str]


@dataclass(frozen=True)
class Account:
    """One publishable account a consent gave access to (a Facebook page, an Instagram business account, an X
    user), with the token that publishes on it."""

    platform: Platform
    account_id: str
    name: str
    handle: str | None
    tokens: TokenSet


@dataclass(frozen=True)
class Media:
    content_type: str
    data: bytes
    url: str  # where the platform can fetch it (Instagram needs a public URL)


@dataclass(frozen=True)
class Content:
    text: str
    link: str | None = None
    media: list[Media] = field(default_factory=list)


@dataclass(frozen=True)
class Published:
    post_id: str
    url: str


@dataclass(frozen=True)
class Metrics:
    likes: int = 0
    comments: int = 0
    shares: int = 0
    impressions: int = 0
    clicks: int = 0
