"""Feast, as ml-scoring uses it: online reads for serving, pushes as events arrive, materialisation from the
offline source, and historical (point-in-time) retrieval for training sets.

Feast's SDK is synchronous; callers on the event loop go through `asyncio.to_thread`. Online writes are
serialised by one lock so a materialisation never lands after a fresher push (the sqlite store upserts
without comparing timestamps).
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
import warnings
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import make_url

from fairway_ml_scoring.feature_fields import RAW_FIELDS
from fairway_ml_scoring.feature_repo.definitions import FEATURE_SERVICE, PUSH_SOURCE, VECTOR_VIEW, definitions
from fairway_ml_scoring.settings import Settings

EPOCH = datetime(1970, 1, 2, tzinfo=UTC)
_VECTOR_REF = [f"{VECTOR_VIEW}:raw"]
_EVENT_COUNT = RAW_FIELDS.index("event_count")


class FeatureStoreGateway:
    def __init__(self, settings: Settings) -> None:
        from feast import FeatureStore
        from feast.repo_config import RepoConfig

        self.root = settings.data_dir / "feast"
        self.root.mkdir(parents=True, exist_ok=True)
        if settings.online_store == "redis":
            online = {"type": "redis", "connection_string": settings.redis_url}
        else:
            online = {"type": "sqlite", "path": str(self.root / "online.db")}
        db = make_url(settings.service_database_url)
        offline = {
            "type": "postgres",
            "host": db.host or "127.0.0.1",
            "port": db.port or 5432,
            "database": db.database,
            "user": db.username or "postgres",
            "password": db.password or "",
            "sslmode": settings.feast_pg_sslmode,
            "db_schema": "public",
        }
        self.config = RepoConfig(
            project=settings.feast_project,
            provider="local",
            registry=str(self.root / "registry.db"),
            online_store=online,
            offline_store=offline,
            entity_key_serialization_version=3,
            repo_path=self.root,
        )
        self.store = FeatureStore(config=self.config)
        self._write_lock = threading.Lock()
        self._applied = False
        self._provider: Any = None
        self._vector_view: Any = None

    # -- setup -------------------------------------------------------------------------------------------
    def apply(self) -> None:
        """Register the repository's objects (idempotent)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.getLogger("feast").setLevel(logging.WARNING)
            self.store.apply(definitions())
        self._applied = True

    # -- online ------------------------------------------------------------------------------------------
    def push(self, tenant_id: str, subjects: list[str], raw: pd.DataFrame, at: datetime) -> None:
        """Write freshly computed rows to the online store (PushMode.ONLINE)."""
        from feast.data_source import PushMode

        if not subjects:
            return
        stamp = pd.Timestamp(at)
        frame = pd.DataFrame(
            {
                "tenant_id": tenant_id,
                "profile_id": list(subjects),
                "event_timestamp": stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC"),
                "raw": list(raw[list(RAW_FIELDS)].to_numpy(dtype=np.float64).tolist()),
            }
        )
        with self._write_lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.store.push(PUSH_SOURCE, frame, to=PushMode.ONLINE)

    def read(self, tenant_id: str, subjects: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
        """Raw rows from the online store, and which subjects it had a row for."""
        values, found = self.read_values(tenant_id, subjects)
        return pd.DataFrame(values, columns=list(RAW_FIELDS)), found

    def read_values(self, tenant_id: str, subjects: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """read() as a plain array (RAW_FIELDS columns): the serving path builds no DataFrame.

        Reads through the provider's online_read (the call get_online_features makes) with the entity keys
        built here: 0.05 ms instead of 0.3 ms, as Feast's request validation and response assembly are
        skipped. Should that internal API change, the public path answers.
        """
        try:
            rows = self._read_direct(tenant_id, subjects)
        except Exception:  # noqa: BLE001 - the public API below is the fallback, not a failure
            rows = self.store.get_online_features(
                features=_VECTOR_REF,
                entity_rows=[{"tenant_id": tenant_id, "profile_id": s} for s in subjects],
            ).to_dict()["raw"]
        values = np.full((len(subjects), len(RAW_FIELDS)), np.nan)
        for i, v in enumerate(rows):
            if v is not None and len(v) == len(RAW_FIELDS):
                values[i] = v
        # event_count < 0 marks an erased subject (see erase); NaN: no row.
        found = values[:, _EVENT_COUNT] >= 0
        return values, found

    def _read_direct(self, tenant_id: str, subjects: list[str]) -> list[Any]:
        from feast.protos.feast.types.EntityKey_pb2 import EntityKey
        from feast.protos.feast.types.Value_pb2 import Value

        if self._provider is None:
            self._provider = self.store._get_provider()
            self._vector_view = self.store.get_feature_view(VECTOR_VIEW)
        keys = [
            EntityKey(
                join_keys=["profile_id", "tenant_id"],
                entity_values=[Value(string_val=s), Value(string_val=tenant_id)],
            )
            for s in subjects
        ]
        got = self._provider.online_read(
            config=self.config, table=self._vector_view, entity_keys=keys, requested_features=["raw"]
        )
        return [list(vals["raw"].double_list_val.val) if vals and "raw" in vals else None for _, vals in got]

    def erase(self, tenant_id: str, subjects: list[str], at: datetime) -> None:
        """Feast has no delete (and skips all-empty rows): a tombstone row replaces whatever the online store
        held, every feature empty and event_count = -1, so no personal data is left and reads see nobody."""
        if subjects:
            empty = pd.DataFrame({f: [np.nan] * len(subjects) for f in RAW_FIELDS})
            empty["event_count"] = -1.0
            self.push(tenant_id, subjects, empty, at)

    # -- offline -------------------------------------------------------------------------------------------
    def historical(
        self, tenant_id: str, subjects: list[str], as_of: list[datetime] | pd.Series
    ) -> pd.DataFrame:
        """Feast point-in-time retrieval: for each (subject, as-of) the latest offline row at or before it.

        A subject with no row at or before its as-of time had no events yet: it comes back as an empty row
        (counts 0, times unknown). Rows are matched back by position, whatever order Feast returns.
        """
        entity_df = pd.DataFrame(
            {
                "tenant_id": tenant_id,
                "profile_id": list(subjects),
                "event_timestamp": pd.to_datetime(pd.Series(list(as_of)), utc=True),
                "fairway_row": np.arange(len(subjects)),
            }
        )
        if not len(entity_df):
            return pd.DataFrame(columns=list(RAW_FIELDS), dtype=np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            job = self.store.get_historical_features(
                entity_df=entity_df, features=self.store.get_feature_service(FEATURE_SERVICE)
            )
            got = job.to_df()
        got = got.set_index("fairway_row").reindex(np.arange(len(subjects)))
        out = got[list(RAW_FIELDS)].astype(np.float64)
        for col in RAW_FIELDS:  # what is unknown stays NaN; what is counted starts at 0
            if not col.endswith("_ts") and col not in ("handicap_latest", "handicap_90d_ago"):
                out[col] = out[col].fillna(0.0)
        return out.reset_index(drop=True)

    def materialize(self, end: datetime | None = None) -> None:
        """Copy the latest offline rows into the online store: everything the first time, then only rows
        since the previous run (window decay points and new events; late events were pushed on arrival)."""
        end = end or datetime.now(UTC)
        with self._write_lock, warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            view = self.store.get_feature_view(VECTOR_VIEW)
            if view.most_recent_end_time is None:
                self.store.materialize(start_date=EPOCH, end_date=end)
            else:
                self.store.materialize_incremental(end_date=end)
