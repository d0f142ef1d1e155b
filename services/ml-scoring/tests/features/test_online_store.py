"""The online store contract, run against every backend the service supports: sqlite locally, Redis in
production (a real redis-server, from the testkit)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from fairway_ml_scoring.features.engine import RAW_FIELDS
from fairway_ml_scoring.features.store import FeatureStoreGateway
from fairway_ml_scoring.settings import Settings

NOW = datetime.now(UTC).replace(microsecond=0)


def rows(*values: float) -> pd.DataFrame:
    """One raw feature row per value: every feature set to it, event_count included."""
    return pd.DataFrame({f: list(values) for f in RAW_FIELDS})


class OnlineStoreContract:
    @pytest.fixture
    def store(self) -> FeatureStoreGateway:
        raise NotImplementedError

    def test_a_pushed_row_reads_back_for_its_tenant_only(self, store: FeatureStoreGateway) -> None:
        a, b = f"p-{uuid.uuid4().hex[:8]}", f"p-{uuid.uuid4().hex[:8]}"
        store.push("club-a", [a, b], rows(3.0, 5.0), NOW)
        values, found = store.read_values("club-a", [a, b, "nobody"])
        assert found.tolist() == [True, True, False]
        assert values[0, RAW_FIELDS.index("event_count")] == 3.0
        assert values[1, RAW_FIELDS.index("event_count")] == 5.0
        assert np.isnan(values[2]).all()
        # The same member id in another club is another person: nothing of club-a's row is served there.
        _, found_b = store.read_values("club-b", [a, b])
        assert found_b.tolist() == [False, False]

    def test_a_fresher_push_replaces_the_row(self, store: FeatureStoreGateway) -> None:
        a = f"p-{uuid.uuid4().hex[:8]}"
        store.push("club-a", [a], rows(1.0), NOW - timedelta(minutes=5))
        store.push("club-a", [a], rows(7.0), NOW)
        values, _ = store.read_values("club-a", [a])
        assert values[0, RAW_FIELDS.index("event_count")] == 7.0

    def test_erasure_leaves_no_features_and_no_member(self, store: FeatureStoreGateway) -> None:
        a = f"p-{uuid.uuid4().hex[:8]}"
        store.push("club-a", [a], rows(4.0), NOW - timedelta(seconds=1))
        store.erase("club-a", [a], NOW)
        values, found = store.read_values("club-a", [a])
        assert found.tolist() == [False]
        assert np.isnan(np.delete(values[0], RAW_FIELDS.index("event_count"))).all()


class TestSqliteOnlineStore(OnlineStoreContract):
    @pytest.fixture
    def store(self, ml_settings: Callable[..., Settings]) -> FeatureStoreGateway:
        gateway = FeatureStoreGateway(ml_settings())
        gateway.apply()
        return gateway


class TestRedisOnlineStore(OnlineStoreContract):
    @pytest.fixture
    def store(self, ml_settings: Callable[..., Settings], redis_url: str) -> FeatureStoreGateway:
        gateway = FeatureStoreGateway(ml_settings(online_store="redis", redis_url=redis_url))
        gateway.apply()
        return gateway
