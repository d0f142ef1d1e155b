from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PlatformPath = Literal["facebook", "instagram", "x"]


class AuthorizeOut(BaseModel):
    platform: str
    authorizationUrl: str
    expiresAt: datetime  # the state in the URL is refused after this


class CallbackIn(BaseModel):
    """What the platform sent back to the redirect URI, passed on by the frontend."""

    model_config = ConfigDict(extra="forbid")
    state: str = Field(min_length=10, max_length=300)
    code: str | None = Field(default=None, max_length=2000)
    error: str | None = Field(default=None, max_length=300)
    error_description: str | None = Field(default=None, max_length=1000)


class ConnectionOut(BaseModel):
    """A connected account. Tokens never leave the service: only whether and until when one is held."""

    id: str
    platform: str
    accountId: str
    accountName: str
    handle: str | None
    status: str  # ACTIVE, NEEDS_RECONNECT, DISCONNECTED
    statusReason: str | None
    scopes: list[str]
    tokenExpiresAt: datetime | None
    connectedBy: str
    connectedAt: datetime
    waitingPosts: int = 0


class CallbackOut(BaseModel):
    connections: list[ConnectionOut]
    missingOptionalScopes: list[str]


class ConnectionList(BaseModel):
    items: list[ConnectionOut]
