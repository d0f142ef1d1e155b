"""MLflow as ml-scoring uses it: one experiment and one registered model per tenant and model kind.

The registered name comes from `model_name_template` ("{tenant}.{model}" by default: `club-a.churn`), so a
version of tenant A can never be looked up for tenant B; every version Fairway registers also carries a
`fairway.tenant` tag, checked again when a model is loaded. Only the MlflowClient is used (no fluent API),
so no process-global tracking URI is ever set.
"""

from __future__ import annotations

import json
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairway_ml_scoring.settings import Settings

MODEL_KINDS = ("churn", "clv")
TENANT_TAG = "fairway.tenant"
CHAMPION, CHALLENGER = "champion", "challenger"
_init_lock = threading.Lock()


@dataclass
class VersionInfo:
    model: str
    registered_name: str
    version: str
    aliases: list[str]
    tags: dict[str, str]
    run_id: str | None
    created_at_ms: int
    source: str
    description: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "aliases": sorted(self.aliases),
            "tags": self.tags,
            "runId": self.run_id,
            "createdAt": self.created_at_ms,
            "metrics": self.metrics,
            "description": self.description,
        }


class ModelRegistry:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            with _init_lock:
                if self._client is None:
                    from mlflow import MlflowClient

                    if self.settings.tracking_uri.startswith("sqlite:"):
                        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
                    self._client = MlflowClient(
                        tracking_uri=self.settings.tracking_uri, registry_uri=self.settings.registry_uri
                    )
        return self._client

    def name(self, tenant_id: str, model: str) -> str:
        return self.settings.registered_name(tenant_id, model)

    # -- runs ------------------------------------------------------------------------------------------
    def experiment(self, tenant_id: str, model: str) -> str:
        exp_name = f"fairway/{tenant_id}/{model}"
        with _init_lock:
            exp = self.client.get_experiment_by_name(exp_name)
            if exp is not None:
                return exp.experiment_id
            root = self.settings.artifact_root
            location = f"{root.rstrip('/')}/{tenant_id}/{model}" if root else None
            return self.client.create_experiment(
                exp_name, artifact_location=location, tags={TENANT_TAG: tenant_id, "fairway.model": model}
            )

    def start_run(self, tenant_id: str, model: str, run_name: str, tags: dict[str, str]) -> str:
        run = self.client.create_run(
            self.experiment(tenant_id, model),
            run_name=run_name,
            tags={TENANT_TAG: tenant_id, "fairway.model": model, **tags},
        )
        return run.info.run_id

    def log(
        self,
        run_id: str,
        *,
        params: dict[str, Any] | None = None,
        metrics: dict[str, float] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        import time

        from mlflow.entities import Metric, Param, RunTag

        now = int(time.time() * 1000)
        self.client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in (metrics or {}).items()],
            params=[Param(k, str(v)[:6000]) for k, v in (params or {}).items()],
            tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()],
        )

    def log_json(self, run_id: str, name: str, data: Any) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_text(json.dumps(data, indent=1, default=str))
            self.client.log_artifact(run_id, str(path))

    def log_dir(self, run_id: str, local_dir: Path, artifact_path: str) -> None:
        self.client.log_artifacts(run_id, str(local_dir), artifact_path)

    def end_run(self, run_id: str, status: str = "FINISHED") -> None:
        import contextlib
        import sys

        # MLflow prints "View run ... at <url>" to stdout when a tracking server is used: CLI output is JSON.
        with contextlib.redirect_stdout(sys.stderr):
            self.client.set_terminated(run_id, status)

    # -- registry ----------------------------------------------------------------------------------------
    def register(
        self,
        tenant_id: str,
        model: str,
        run_id: str,
        artifact_path: str,
        tags: dict[str, str],
        description: str | None = None,
    ) -> str:
        from mlflow.exceptions import MlflowException

        name = self.name(tenant_id, model)
        try:
            self.client.create_registered_model(name, tags={TENANT_TAG: tenant_id, "fairway.model": model})
        except MlflowException as exc:
            if "already exists" not in str(exc).lower() and "RESOURCE_ALREADY_EXISTS" not in str(exc):
                raise
        source = f"{self.client.get_run(run_id).info.artifact_uri}/{artifact_path}"
        mv = self.client.create_model_version(
            name, source=source, run_id=run_id, tags={TENANT_TAG: tenant_id, **tags}, description=description
        )
        return str(mv.version)

    def set_alias(self, tenant_id: str, model: str, alias: str, version: str) -> None:
        self.client.set_registered_model_alias(self.name(tenant_id, model), alias, str(version))

    def set_version_tag(self, tenant_id: str, model: str, version: str, key: str, value: str) -> None:
        self.client.set_model_version_tag(self.name(tenant_id, model), str(version), key, value)

    def alias_version(self, tenant_id: str, model: str, alias: str) -> str | None:
        from mlflow.exceptions import MlflowException

        try:
            return str(self.client.get_model_version_by_alias(self.name(tenant_id, model), alias).version)
        except MlflowException:
            return None

    def version(self, tenant_id: str, model: str, version: str) -> VersionInfo | None:
        from mlflow.exceptions import MlflowException

        try:
            mv = self.client.get_model_version(self.name(tenant_id, model), str(version))
        except MlflowException:
            return None
        return self._info(model, mv)

    def versions(self, tenant_id: str, model: str, with_metrics: bool = False) -> list[VersionInfo]:
        from mlflow.exceptions import MlflowException

        name = self.name(tenant_id, model)
        try:
            found = self.client.search_model_versions(f"name = '{name}'")
        except MlflowException:
            return []
        out = [self._info(model, mv) for mv in found]
        if with_metrics:
            for v in out:
                v.metrics = self.run_metrics(v.run_id)
        return sorted(out, key=lambda v: int(v.version), reverse=True)

    def run_metrics(self, run_id: str | None) -> dict[str, float]:
        if not run_id:
            return {}
        from mlflow.exceptions import MlflowException

        try:
            return dict(self.client.get_run(run_id).data.metrics)
        except MlflowException:
            return {}

    def _info(self, model: str, mv: Any) -> VersionInfo:
        return VersionInfo(
            model=model,
            registered_name=mv.name,
            version=str(mv.version),
            aliases=list(getattr(mv, "aliases", []) or []),
            tags=dict(mv.tags or {}),
            run_id=mv.run_id,
            created_at_ms=int(mv.creation_timestamp or 0),
            source=mv.source,
            description=mv.description,
        )

    def artifact_location(self, tenant_id: str, model: str, version: str) -> str:
        """Where a version's files are. Resolved here rather than through `models:/` URIs, which MLflow
        resolves against the process-global registry."""
        mv = self.client.get_model_version(self.name(tenant_id, model), str(version))
        source = mv.source
        if source.startswith("models:/"):  # an MLflow 3 logged model (mlflow.<flavor>.log_model)
            model_id = getattr(mv, "model_id", None) or source.removeprefix("models:/").split("/")[0]
            return self.client.get_logged_model(model_id).artifact_location
        if source.startswith("runs:/"):
            run_id, _, path = source.removeprefix("runs:/").partition("/")
            return f"{self.client.get_run(run_id).info.artifact_uri}/{path}".rstrip("/")
        return source

    def download(self, tenant_id: str, model: str, version: str, dst: Path | None = None) -> Path:
        import mlflow

        uri = self.artifact_location(tenant_id, model, version)
        path = mlflow.artifacts.download_artifacts(
            artifact_uri=uri, dst_path=str(dst) if dst else None, tracking_uri=self.settings.tracking_uri
        )
        return Path(path)
