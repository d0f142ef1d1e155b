from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fairway_chassis.repository import RepositoryBase

metadata = MetaData()
courses = Table(
    "course", metadata, Column("tenant_id", String, primary_key=True), Column("id", String, primary_key=True),
    Column("name", String),
)


class Base(DeclarativeBase):
    metadata = metadata


class Hole(Base):
    __tablename__ = "hole"
    tenant_id: Mapped[str] = mapped_column(primary_key=True)
    id: Mapped[str] = mapped_column(primary_key=True)
    par: Mapped[int]


class CourseRepository(RepositoryBase):
    async def add(self, id: str, name: str) -> None:  # noqa: A002
        await self.session.execute(insert(courses).values(self.row(id=id, name=name)))

    async def name(self, id: str) -> str | None:  # noqa: A002
        return (await self.session.execute(select(courses.c.name).where(self.owns(courses), courses.c.id == id))).scalar()

    async def rename(self, id: str, name: str) -> int:  # noqa: A002
        res = await self.session.execute(update(courses).where(self.owns(courses), courses.c.id == id).values(name=name))
        return res.rowcount  # type: ignore[attr-defined, no-any-return]

    async def hole(self, id: str) -> Hole | None:  # noqa: A002
        return (await self.session.execute(select(Hole).where(self.owns(Hole), Hole.id == id))).scalar()


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine: AsyncEngine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with async_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()


async def test_a_repository_reads_and_changes_only_its_tenants_rows(session: AsyncSession) -> None:
    fairway = CourseRepository.for_tenant(session, "fairwaygolf")
    stonehaven = CourseRepository.for_tenant(session, "stonehaven")
    await fairway.add("c1", "Championship")
    session.add(Hole(tenant_id="fairwaygolf", id="h1", par=4))
    await session.flush()

    assert await fairway.name("c1") == "Championship"
    assert await stonehaven.name("c1") is None  # handed the other tenant's id: nothing
    assert await stonehaven.rename("c1", "Taken over") == 0
    assert await fairway.name("c1") == "Championship"
    assert (await fairway.hole("h1")) is not None and await stonehaven.hole("h1") is None


async def test_a_repository_needs_a_tenant(session: AsyncSession) -> None:
    with pytest.raises(ValueError, match="one tenant"):
        CourseRepository.for_tenant(session, "")
