"""SQL of the tenant AI config."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from fairway_ai_gateway.db import tenant_config
from fairway_ai_gateway.sql import Statement

_GET = Statement("SELECT CAST(doc AS TEXT) AS doc FROM ai_tenant_config WHERE tenant_id = :tenant")


class ConfigRepository:
    """`session`: an SQLAlchemy session; `get` also runs on the gateway's asyncpg hot pool (see `sql.Statement`)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def get(self, tenant_id: str) -> dict[str, Any] | None:
        row = await _GET.first(self.session, {"tenant": tenant_id})
        return None if row is None else dict(json.loads(row["doc"]))

    async def get_for_update(self, tenant_id: str) -> dict[str, Any] | None:
        row = (
            await self.session.execute(
                select(tenant_config.c.doc).where(tenant_config.c.tenant_id == tenant_id).with_for_update()
            )
        ).first()
        return None if row is None else dict(row.doc)

    async def put(self, tenant_id: str, doc: dict[str, Any], updated_by: str) -> None:
        stmt = insert(tenant_config).values(tenant_id=tenant_id, doc=doc, updated_by=updated_by)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[tenant_config.c.tenant_id],
                set_={
                    "doc": stmt.excluded.doc,
                    "updated_by": stmt.excluded.updated_by,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
        )
