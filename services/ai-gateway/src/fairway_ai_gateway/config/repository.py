"""SQL of the tenant AI config."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from fairway_ai_gateway.db import tenant_config
from fairway_ai_gateway.sql import Statement
from fairway_chassis import RepositoryBase

_GET = Statement("SELECT CAST(doc AS TEXT) AS doc FROM ai_tenant_config WHERE tenant_id = :tenant")


class ConfigRepository(RepositoryBase):
    """One tenant's AI config. `session`: an SQLAlchemy session; `get` also runs on the gateway's asyncpg hot pool
    (see `sql.Statement`)."""

    async def get(self) -> dict[str, Any] | None:
        """The config document (validated by the service into its model)."""
        row = await _GET.first(self.session, {"tenant": self.tenant_id})
        return None if row is None else dict(json.loads(row["doc"]))

    async def get_for_update(self) -> dict[str, Any] | None:
        row = (
            await self.session.execute(
                select(tenant_config.c.doc).where(self.owns(tenant_config)).with_for_update()
            )
        ).first()
        return None if row is None else dict(row.doc)

    async def put(self, doc: dict[str, Any], updated_by: str) -> None:
        stmt = insert(tenant_config).values(self.row(doc=doc, updated_by=updated_by))
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
