"""Every service's HTTP API against its own OpenAPI document (Schemathesis): no 5xx for any input the generator
finds (NUL characters and lone surrogates included), every status code, content type and body as documented, and
a stateful run over the links between operations. A new service is one line in SERVICES."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest

from fairway_testkit import auth_headers
from fairway_testkit.openapi_fuzz import fuzz_openapi


def _ml_scoring(tmp: Path) -> dict[str, Any]:  # MLflow on a local sqlite file, no tracking server
    return {"run_dir": tmp / "run", "mlflow_tracking_uri": f"sqlite:///{tmp / 'mlflow.db'}",
            "mlflow_artifact_root": (tmp / "artifacts").as_uri(), "feast_pg_sslmode": "disable"}


@dataclass(frozen=True)
class Api:
    package: str  # builds `<package>.app.create_app(<package>.settings.Settings(...))`
    settings: Callable[[Path], dict[str, Any]] = field(default=lambda tmp: {})


SERVICES = [
    Api("fairway_identity"),
    Api("fairway_timeline"),
    Api("fairway_segmentation", lambda tmp: {"maintenance": False, "ai_timeout_seconds": 0.5}),
    Api("fairway_ml_scoring", _ml_scoring),
    Api("fairway_ai_gateway"),
]


@pytest.mark.parametrize("api", SERVICES, ids=lambda a: a.package.removeprefix("fairway_"))
async def test_api_matches_its_openapi(api: Api, settings_for: Callable[..., Any], tmp_path: Path) -> None:
    settings = settings_for(import_module(f"{api.package}.settings").Settings, **api.settings(tmp_path))
    app = import_module(f"{api.package}.app").create_app(settings)
    report = await fuzz_openapi(app, headers=auth_headers("fairwaygolf", ["admin"]))
    print(f"{api.package}: {report.operations} operations, {report.requests} requests, statuses {report.statuses}, "
          f"{'; '.join(report.notes)}")
    assert report.operations > 0 and report.requests >= report.operations
    assert not report.failures, "\n\n".join(report.failures)

