"""Every service's HTTP API against its own OpenAPI document (Schemathesis): no 5xx for any input the generator
finds (NUL characters and lone surrogates included), every status code, content type and body as documented, and
a stateful run over the links between operations. A new service is one line in SERVICES.

Budget: each service's run takes a few minutes on a loaded 2-core CI machine; `max_examples` per operation and
`stateful_steps` (scenarios of up to 6 linked calls) are set per service so its run stays within that."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest

from fairway_testkit import auth_headers
from fairway_testkit.openapi_fuzz import fuzz_openapi

Settings = dict[str, Any]


@contextlib.asynccontextmanager
async def _ml_scoring(tmp: Path) -> AsyncIterator[Settings]:  # MLflow on a local sqlite file, no tracking server
    yield {"run_dir": tmp / "run", "mlflow_tracking_uri": f"sqlite:///{tmp / 'mlflow.db'}",
           "mlflow_artifact_root": (tmp / "artifacts").as_uri(), "feast_pg_sslmode": "disable"}


@contextlib.asynccontextmanager
async def _social(tmp: Path) -> AsyncIterator[Settings]:
    """The fake Facebook/Instagram/X beside the service: connecting, publishing and engagement reach a platform
    that answers as the real ones do."""
    from fairway_social.crypto import TokenCipher
    from fairway_social.fakes.server import FakePlatformsServer

    async with FakePlatformsServer() as fakes:
        yield {"token_keys": [TokenCipher.generate_key("k1")], "state_secret": "state-" + "s" * 40,
               "facebook_auth_url": fakes.url, "facebook_graph_url": fakes.url, "x_auth_url": fakes.url,
               "x_api_url": fakes.url, "platform_timeout_seconds": 2.0, "ai_timeout_seconds": 0.5}


def _fixed(values: Settings) -> Callable[[Path], contextlib.AbstractAsyncContextManager[Settings]]:
    @contextlib.asynccontextmanager
    async def around(tmp: Path) -> AsyncIterator[Settings]:
        yield values

    return around


@dataclass(frozen=True)
class Api:
    package: str  # builds `<package>.app.create_app(<package>.settings.Settings(...))`
    # Settings for the run, and whatever must run beside the service while it is fuzzed (fake upstreams).
    around: Callable[[Path], contextlib.AbstractAsyncContextManager[Settings]] = field(default=_fixed({}))
    max_examples: int = 25  # per operation
    stateful_steps: int = 20  # stateful scenarios


# No AI gateway runs here: a route that asks it waits `ai_timeout_seconds` and answers its documented 503/504.
SERVICES = [
    Api("fairway_identity"),
    Api("fairway_timeline"),
    Api("fairway_segmentation", _fixed({"maintenance": False, "ai_timeout_seconds": 0.5})),
    Api("fairway_ml_scoring", _ml_scoring),
    Api("fairway_ai_gateway"),
    Api("fairway_campaigns", _fixed({"ai_timeout_seconds": 0.5}), max_examples=50, stateful_steps=50),
    Api("fairway_journeys", _fixed({"ai_timeout_seconds": 0.5}), max_examples=50, stateful_steps=50),
    Api("fairway_social", _social, max_examples=50, stateful_steps=50),
]


@pytest.mark.parametrize("api", SERVICES, ids=lambda a: a.package.removeprefix("fairway_"))
async def test_api_matches_its_openapi(api: Api, settings_for: Callable[..., Any], tmp_path: Path) -> None:
    async with api.around(tmp_path) as values:
        settings = settings_for(import_module(f"{api.package}.settings").Settings, **values)
        app = import_module(f"{api.package}.app").create_app(settings)
        report = await fuzz_openapi(app, headers_for=lambda tenant: auth_headers(tenant, ["admin"]),
                                    max_body_bytes=settings.max_body_bytes,
                                    max_examples=api.max_examples, stateful_steps=api.stateful_steps)
    print(f"{api.package}: {report.operations} operations, {report.requests} requests, statuses {report.statuses}, "
          f"{'; '.join(report.notes)}")
    assert report.operations > 0 and report.requests >= report.operations
    assert not report.failures, f"{len(report.failures)} failures:\n\n" + "\n\n".join(report.failures)
