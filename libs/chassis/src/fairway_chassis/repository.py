"""The base of every repository: the SQL of one concept, for one tenant.

A repository is built for a tenant (`ProfileRepository.for_tenant(session, principal.tenant_id)`) and puts the
tenant condition into every statement itself, so no caller can forget it: handed another tenant's ids, it reads
nothing and changes nothing. Methods take domain arguments (ids, values), never a tenant, and return typed objects
(frozen dataclasses or models), never rows indexed by string.

    class NoteRepository(RepositoryBase):
        async def get(self, note_id: UUID) -> Note | None:
            return (await self.session.execute(select(Note).where(self.owns(Note), Note.id == note_id))).scalar()

        async def add(self, **values: Any) -> None:
            await self.session.execute(insert(notes).values(self.row(**values)))

Work that spans tenants by design (a consumer batch holding many tenants' events, a maintenance sweep listing what
is due) lives in a class of its own whose name says so, and scopes each row by the tenant it carries.
"""
from __future__ import annotations

from typing import Any, Self

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession


class RepositoryBase:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        if not tenant_id:
            raise ValueError("a repository is built for one tenant")
        self.session = session
        self.tenant_id = tenant_id

    @classmethod
    def for_tenant(cls, session: AsyncSession, tenant_id: str) -> Self:
        return cls(session, tenant_id)

    def owns(self, table: Any) -> ColumnElement[bool]:
        """`tenant_id = <this tenant>` for a Core table, an alias or an ORM model: the condition every statement
        on a table of tenant rows carries."""
        columns = getattr(table, "c", table)
        condition: ColumnElement[bool] = columns.tenant_id == self.tenant_id
        return condition

    def row(self, **values: Any) -> dict[str, Any]:
        """Values of a row to insert, with this tenant's id."""
        return {**values, "tenant_id": self.tenant_id}
