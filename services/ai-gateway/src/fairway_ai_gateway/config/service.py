"""Reading and changing a tenant's AI config. Reads are cached for a few seconds per process: the gateway
reads the config on every request and a PATCH is rare (the process that takes the PATCH drops its copy)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_ai_gateway.config.repository import ConfigRepository
from fairway_ai_gateway.config.schemas import TenantAIConfig, TenantAIConfigPatch, apply_patch, default_config
from fairway_events import outbox, registry
from fairway_events.contracts.ai import AIConfigUpdated, AIFeatureToggled


class ConfigService:
    def __init__(
        self, *, default_timezone: str, cache_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.default_timezone = default_timezone
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cache: dict[str, tuple[float, TenantAIConfig]] = {}
        self._loading: dict[str, asyncio.Future[TenantAIConfig]] = {}

    def _default(self) -> TenantAIConfig:
        return default_config(self.default_timezone)

    async def current(
        self, run: Callable[[Callable[[Any], Awaitable[Any]]], Awaitable[Any]], tenant_id: str
    ) -> TenantAIConfig:
        """The gateway's read: the cached config, else one read shared by every request that needs it meanwhile
        (when a busy tenant's entry expires, its concurrent requests do not all query). `run(fn)` awaits fn
        with a connection: the gateway's hot pool."""
        hit = self._cache.get(tenant_id)
        if hit and self.clock() - hit[0] < self.cache_seconds:
            return hit[1]
        pending = self._loading.get(tenant_id)
        if pending is None:

            async def load() -> TenantAIConfig:
                try:
                    doc = await run(lambda conn: ConfigRepository.for_tenant(conn, tenant_id).get())
                    return self._remember(tenant_id, doc)
                finally:
                    del self._loading[tenant_id]

            pending = self._loading[tenant_id] = asyncio.ensure_future(load())
        # shielded: a caller that gives up does not cancel the read the others wait for
        return await asyncio.shield(pending)

    async def get(self, session: AsyncSession, tenant_id: str, *, fresh: bool = False) -> TenantAIConfig:
        now = self.clock()
        hit = self._cache.get(tenant_id)
        if hit and not fresh and now - hit[0] < self.cache_seconds:
            return hit[1]
        return self._remember(tenant_id, await ConfigRepository.for_tenant(session, tenant_id).get())

    def _remember(self, tenant_id: str, doc: dict[str, Any] | None) -> TenantAIConfig:
        now = self.clock()
        # A stored doc from an older release may miss newer fields: defaults fill them.
        cfg = (
            self._default()
            if doc is None
            else TenantAIConfig.model_validate({**self._default().doc(), **doc})
        )
        self._cache[tenant_id] = (now, cfg)
        return cfg

    async def update(
        self, session: AsyncSession, tenant_id: str, patch: TenantAIConfigPatch, updated_by: str
    ) -> tuple[TenantAIConfig, list[str]]:
        repo = ConfigRepository.for_tenant(session, tenant_id)
        doc = await repo.get_for_update()
        current = (
            self._default()
            if doc is None
            else TenantAIConfig.model_validate({**self._default().doc(), **doc})
        )
        new, changed = apply_patch(current, patch)
        await repo.put(new.doc(), updated_by)
        events = []
        if changed:
            events.append(
                registry.envelope(
                    AIConfigUpdated(changedFields=changed, updatedBy=updated_by),
                    tenant_id=tenant_id,
                    aggregate_id=tenant_id,
                    source="ai-gateway",
                )
            )
        for name in changed:
            if name.startswith("features."):
                feature = name.split(".", 1)[1]
                events.append(
                    registry.envelope(
                        AIFeatureToggled(
                            feature=feature, enabled=getattr(new.features, feature), updatedBy=updated_by
                        ),
                        tenant_id=tenant_id,
                        aggregate_id=tenant_id,
                        source="ai-gateway",
                    )
                )
        await outbox.append(session, *events)
        self._cache.pop(tenant_id, None)
        return new, changed

    def forget(self, tenant_id: str) -> None:
        self._cache.pop(tenant_id, None)
