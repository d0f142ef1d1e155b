"""Which model version serves each tenant: follows the `champion` (and `challenger`) aliases in MLflow.

A background loop calls `refresh_all` every `model_poll_seconds`; a promotion through the API refreshes its
tenant at once. When an alias moves, the new version is downloaded, checked and swapped in; moving the alias
back is the rollback. A version that fails the checks is not served: the previous one keeps serving and the
reason is reported (GET /api/v1/ml/models).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from fairway_ml_scoring.models.loaded import ModelRejected
from fairway_ml_scoring.models.registry import CHALLENGER, CHAMPION, ModelRegistry

log = structlog.get_logger("fairway.ml.models")
Loader = Callable[[Path, str, str, dict[str, str]], Any]  # (dir, tenant, version, tags) -> loaded model


@dataclass
class Slot:
    served: dict[str, Any] = field(default_factory=dict)  # alias -> loaded model
    seen: dict[str, str | None] = field(default_factory=dict)  # alias -> version the registry points at
    errors: dict[str, str] = field(default_factory=dict)  # alias -> why that version is not served
    checked_at: float = 0.0

    def version(self, alias: str) -> str | None:
        m = self.served.get(alias)
        return m.version if m is not None else None


@dataclass(frozen=True)
class AliasChange:
    tenant_id: str
    model: str
    alias: str
    version: str | None
    previous: str | None


class ModelCache:
    def __init__(
        self,
        registry: ModelRegistry,
        model: str,
        loader: Loader,
        *,
        aliases: tuple[str, ...] = (CHAMPION, CHALLENGER),
    ) -> None:
        self.registry = registry
        self.model = model
        self.loader = loader
        self.aliases = aliases
        self._slots: dict[str, Slot] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._dirs: list[tempfile.TemporaryDirectory[str]] = []

    def _lock(self, tenant_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(tenant_id, threading.Lock())

    def peek(self, tenant_id: str) -> Slot | None:
        return self._slots.get(tenant_id)

    def get(self, tenant_id: str, alias: str = CHAMPION) -> Any:
        slot = self._slots.get(tenant_id)
        return slot.served.get(alias) if slot else None

    def tenants(self) -> list[str]:
        return list(self._slots)

    def refresh(self, tenant_id: str) -> list[AliasChange]:
        """Follow the aliases of one tenant; returns what changed (nothing on the first look)."""
        with self._lock(tenant_id):
            first = tenant_id not in self._slots
            slot = self._slots.get(tenant_id) or Slot()
            changes: list[AliasChange] = []
            for alias in self.aliases:
                try:
                    target = self.registry.alias_version(tenant_id, self.model, alias)
                except Exception as exc:  # noqa: BLE001 - registry away: keep serving what we have
                    log.warning(
                        "model registry unreachable", tenant_id=tenant_id, model=self.model, error=repr(exc)
                    )
                    continue
                if alias in slot.seen and slot.seen[alias] == target:
                    continue
                previous = slot.version(alias)
                slot.seen[alias] = target
                if target is None:
                    slot.served.pop(alias, None)
                    slot.errors.pop(alias, None)
                else:
                    try:
                        slot.served[alias] = self._load(tenant_id, target)
                        slot.errors.pop(alias, None)
                    except (ModelRejected, OSError, ValueError) as exc:
                        slot.errors[alias] = f"version {target} is not served: {exc}"
                        log.error(
                            "model version rejected",
                            tenant_id=tenant_id,
                            model=self.model,
                            alias=alias,
                            version=target,
                            reason=str(exc),
                        )
                        continue
                if not first and slot.version(alias) != previous:
                    changes.append(AliasChange(tenant_id, self.model, alias, slot.version(alias), previous))
            slot.checked_at = time.monotonic()
            self._slots[tenant_id] = slot
            return changes

    def refresh_all(self) -> list[AliasChange]:
        out: list[AliasChange] = []
        for tenant_id in list(self._slots):
            out += self.refresh(tenant_id)
        return out

    def ensure(self, tenant_id: str) -> Slot:
        if tenant_id not in self._slots:
            self.refresh(tenant_id)
        return self._slots[tenant_id]

    def _load(self, tenant_id: str, version: str) -> Any:
        info = self.registry.version(tenant_id, self.model, version)
        if info is None:
            raise ModelRejected(f"version {version} does not exist")
        tmp = tempfile.TemporaryDirectory(prefix=f"fairway-{self.model}-")
        self._dirs.append(tmp)  # kept for the process lifetime: small, and sessions may mmap files
        local = self.registry.download(tenant_id, self.model, version, Path(tmp.name))
        return self.loader(local, tenant_id, version, info.tags)
