"""The catalogue's consumer groups (what `fairway replay --wait` and the benchmarks wait for) are the groups the
services really run: built from each service's own app, not copied by hand."""
import base64
import importlib
from pathlib import Path

import pytest

from fairway_events import CONSUMER_GROUPS

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.parent.name for p in ROOT.glob("services/*/pyproject.toml"))


@pytest.mark.parametrize("service", SERVICES)
def test_every_consumer_of_a_service_is_in_the_catalogue(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAIRWAY_JWT_SECRET", "stonehaven-" + "s" * 40)
    monkeypatch.setenv("FAIRWAY_SOCIAL_TOKEN_KEYS", "k1:" + base64.b64encode(b"k" * 32).decode())
    monkeypatch.setenv("FAIRWAY_SOCIAL_STATE_SECRET", "stonehaven-state-" + "s" * 32)
    app = importlib.import_module(f"fairway_{service.replace('-', '_')}.app").create_app()
    running = {(c.name, tuple(c.topics)) for c in app.state.runtime.consumers}
    declared = {(g.name, g.topics) for g in CONSUMER_GROUPS if g.service == service}
    assert running == declared
