"""Export of the feature log into Feast's offline source: the tenant's change-point rows, replaced at once.

Rows are recomputed from the whole log on each export (a late event changes every later row of its subject),
inside one transaction, so Feast never reads half an export.
"""

from __future__ import annotations

import io
from datetime import datetime

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_ml_scoring.db import ml_feature_snapshots
from fairway_ml_scoring.feature_fields import RAW_FIELDS
from fairway_ml_scoring.features.engine import EventLog

COLUMNS = ["tenant_id", "profile_id", "event_timestamp", *RAW_FIELDS]


async def replace_snapshots(session: AsyncSession, tenant_id: str, log: EventLog, until: datetime) -> int:
    frame = log.change_points(until=until)
    await session.execute(delete(ml_feature_snapshots).where(ml_feature_snapshots.c.tenant_id == tenant_id))
    if frame.empty:
        return 0
    frame = frame.rename(columns={"subject": "profile_id"})
    frame.insert(0, "tenant_id", tenant_id)
    # CSV COPY written by Arrow: an order of magnitude faster than row tuples or pandas; NaN -> empty -> NULL.
    table = pa.Table.from_pandas(frame[COLUMNS], preserve_index=False)
    ts = table.schema.get_field_index("event_timestamp")
    table = table.set_column(ts, "event_timestamp", table.column(ts).cast(pa.timestamp("s", tz="UTC")))
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
    buf.seek(0)
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    await raw.driver_connection.copy_to_table(
        "ml_feature_snapshots", source=buf, columns=COLUMNS, format="csv"
    )
    return len(frame)


async def drop_subjects(session: AsyncSession, tenant_id: str, subjects: list[str]) -> None:
    if subjects:
        await session.execute(
            delete(ml_feature_snapshots).where(
                ml_feature_snapshots.c.tenant_id == tenant_id, ml_feature_snapshots.c.profile_id.in_(subjects)
            )
        )
