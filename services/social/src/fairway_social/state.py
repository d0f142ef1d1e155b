"""What a running social service holds, typed: each concept takes the few pieces it needs from here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from fairway_chassis import Clock, Jobs, SystemClock
from fairway_social.crypto import TokenCipher
from fairway_social.platforms.facebook import GraphClient
from fairway_social.platforms.x import XClient
from fairway_social.settings import Settings


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
    clock: Clock
    jobs: Jobs | None = None  # set at start-up (the chassis builds it from publishing.jobs.registry)
    rpc: Any = None  # RpcClient to the AI gateway, set at start-up

    def now(self) -> datetime:
        return self.clock.now()

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> SocialState:
        return cls(settings, TokenCipher(settings.token_keys), Platforms.create(settings), clock or SystemClock())
