"""What a running social service holds, typed: each concept takes the few pieces it needs from here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from fairway_social.crypto import TokenCipher
from fairway_social.platforms.facebook import GraphClient
from fairway_social.platforms.x import XClient
from fairway_social.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Platforms:
    """The platform clients, on one shared HTTP connection pool."""

    graph: GraphClient
    x: XClient
    http: httpx.AsyncClient

    @classmethod
    def create(cls, settings: Settings) -> Platforms:
        http = httpx.AsyncClient(timeout=settings.platform_timeout_seconds, follow_redirects=False)
        return cls(GraphClient(settings, http), XClient(settings, http), http)


@dataclass
class SocialState:
    settings: Settings
    cipher: TokenCipher
    platforms: Platforms
    now: Callable[[], datetime] = utc_now
    jobs: Any = None  # the procrastinate app, once the worker side is wired (publishing.jobs)
    rpc: Any = None  # RpcClient to the AI gateway
