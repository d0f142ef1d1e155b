"""What the handlers, endpoints, loops and the CLI share: settings, clock, Feast, the model registry and the
models being served. One instance per process: the service's typed state (`runtime.state`, `deps.Ml`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_chassis import Clock, SystemClock
from fairway_ml_scoring.features.store import FeatureStoreGateway
from fairway_ml_scoring.models.cache import ModelCache
from fairway_ml_scoring.models.registry import ModelRegistry
from fairway_ml_scoring.settings import Settings

log = structlog.get_logger("fairway.ml")


@dataclass
class MlContext:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    features: FeatureStoreGateway | None = None
    registry: ModelRegistry | None = None
    churn_models: ModelCache | None = None
    clv_models: ModelCache | None = None
    # One thread for online-store writes: pushes land in commit order.
    online_writer: concurrent.futures.ThreadPoolExecutor = field(
        default_factory=lambda: concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ml-online")
    )
    _pending: set[asyncio.Future[Any]] = field(default_factory=set)
    sto_pools: dict[Any, Any] = field(default_factory=dict)  # pooled send-time priors, cached per process
    baselines: dict[str, Any] = field(default_factory=dict)  # typical member per club, for explanations
    # Online churn serving (set when the service starts, by churn.online.serve_online): the micro-batching
    # predictor, batched reads and group-committed writes of stored predictions, and sessions for the rare paths
    # that need a unit of work.
    churn_online: Any = None
    stored_predictions: Any = None
    prediction_writer: Any = None
    sessions: async_sessionmaker[AsyncSession] | None = None

    def start(self, clv_loader: Callable[..., Any]) -> None:
        """Open Feast and the registry (blocking: call in a thread). `clv_loader` is clv's model loader (given by
        the process's wiring: the context sits below the concepts that use it)."""
        from fairway_ml_scoring.models.loaded import load_model

        self.features = FeatureStoreGateway(self.settings)
        self.features.apply()
        self.registry = ModelRegistry(self.settings)

        def churn_loader(path: Any, tenant: str, version: str, tags: dict[str, str]) -> Any:
            return load_model(
                path, tenant_id=tenant, model="churn", version=version, tags=tags, expect_probability=True
            )

        self.churn_models = ModelCache(self.registry, "churn", churn_loader)
        self.clv_models = ModelCache(self.registry, "clv", clv_loader, aliases=("champion",))

    def stop(self) -> None:
        self.online_writer.shutdown(wait=True)

    @property
    def fs(self) -> FeatureStoreGateway:
        assert self.features is not None, "MlContext.start() runs when the service starts"
        return self.features

    @property
    def reg(self) -> ModelRegistry:
        assert self.registry is not None, "MlContext.start() runs when the service starts"
        return self.registry

    def now(self) -> datetime:
        return self.clock.now()

    def session(self) -> AsyncSession:
        assert self.sessions is not None, "churn.online.serve_online() runs when the service starts"
        return self.sessions()

    # -- after-commit effects -------------------------------------------------------------------------------
    def after_commit(self, session: AsyncSession, fn: Callable[[], None]) -> None:
        """Run a blocking online-store write once the session's transaction has committed (never before:
        features of a rolled-back batch must not be served)."""
        loop = asyncio.get_running_loop()

        def on_commit(_: Any) -> None:
            fut = loop.run_in_executor(self.online_writer, self._guarded, fn)
            self._pending.add(fut)
            fut.add_done_callback(self._pending.discard)

        event.listen(session.sync_session, "after_commit", on_commit, once=True)

    @staticmethod
    def _guarded(fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:  # the next push or materialisation repairs the online row
            log.exception("online store write failed")

    async def drain(self) -> None:
        """Wait for pending online writes (tests and the CLI)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
