"""The chaos suite's platform: the e2e one (fairway_testkit.platform) without the demo club, with its own embedded
PostgreSQL and Tansu (so both can be stopped), and the gateway pointed at the fake AI provider (so it can be
slowed down). One club of its own, `chaos-<hex>`, with a Gold segment and a welcome journey."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from fairway_localinfra import wait_port
from fairway_testkit.platform import Platform, running_platform

FAKE_AI_PORT = 8099  # + the platform's port offset
GOLD = {"name": "Gold members", "description": "Members on the Gold tier",
        "criteria": {"combinator": "AND", "rules": [{"field": "membershipTier", "operator": "eq", "value": "Gold"}]}}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.timeout(1800))


@dataclass
class Club:
    tenant: str
    gold_segment: str
    welcome_journey: str


@pytest.fixture(scope="session")
def platform() -> Iterator[Platform]:
    # Not under pytest's basetemp: other pytest sessions on the machine prune old basetemps, and this platform's
    # PostgreSQL data lives here for the whole run (as root it runs as another user, hence 0755).
    run_dir = Path(tempfile.mkdtemp(prefix="fairway-chaos-"))
    run_dir.chmod(0o755)

    def ai_env(offset: int) -> dict[str, str]:
        return {"FAIRWAY_AI_ANTHROPIC_BASE_URL": f"http://127.0.0.1:{FAKE_AI_PORT + offset}",
                "FAIRWAY_AI_ANTHROPIC_API_KEY": "local-fake-provider"}

    with running_platform(run_dir, "--no-demo", extra_env=ai_env) as p:
        port = p.port(FAKE_AI_PORT)
        log = (run_dir / "logs" / "fake-ai.log").open("ab")
        fake = subprocess.Popen([sys.executable, "-m", "fairway_ai_gateway.fake_provider", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_port("127.0.0.1", port, 60)
            # MLflow starts slowly on a busy machine (`platform up` waits a minute for it), and ml-scoring's scoring
            # waits on it: faults are injected into a whole platform.
            wait_port("127.0.0.1", p.port(8102), 600)
            yield p
        finally:
            fake.terminate()
            fake.wait(30)
    if os.environ.get("FAIRWAY_CHAOS_KEEP") != "1":  # keep the logs and data to look into a failure
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def club(platform: Platform) -> Club:
    tenant = f"chaos-{uuid.uuid4().hex[:6]}"
    headers = {"Authorization": f"Bearer {platform.token(tenant, 'marketer')}"}
    with httpx.Client(headers=headers, timeout=60) as http:
        segment = http.post(f"{platform.url('segmentation')}/api/v1/segments", json=GOLD)
        assert segment.status_code == 201, segment.text
        templates = {t["key"]: t for t in http.get(f"{platform.url('journeys')}/api/v1/journeys/templates").json()}
        welcome = templates["welcome"]
        journey = http.post(f"{platform.url('journeys')}/api/v1/journeys", json={
            "name": welcome["name"], "goalText": welcome["goal"], "definition": welcome["definition"]})
        assert journey.status_code == 201, journey.text
        activated = http.post(f"{platform.url('journeys')}/api/v1/journeys/{journey.json()['id']}/activate")
        assert activated.status_code == 200, activated.text
    return Club(tenant=tenant, gold_segment=segment.json()["id"], welcome_journey=journey.json()["id"])


def fake_ai(platform: Platform, path: str, body: object | None = None) -> object:
    url = f"http://127.0.0.1:{platform.port(FAKE_AI_PORT)}{path}"
    r = httpx.post(url, json=body, timeout=10) if body is not None else httpx.get(url, timeout=10)
    r.raise_for_status()
    return json.loads(r.text)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from .report import REPORTS, report_table

    if REPORTS:
        terminalreporter.write_sep("=", "chaos: per scenario")
        terminalreporter.write_line(report_table())
