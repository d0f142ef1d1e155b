"""PostgreSQL: the service's own database, created if missing and migrated with Alembic on start."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import asyncpg
from alembic import command
from alembic.config import Config
from fastapi import Depends, Request
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def ensure_database(service_url: str) -> None:
    """CREATE DATABASE if it does not exist (connecting to the server's `postgres` database)."""
    base, _, name = service_url.rpartition("/")
    name = name.split("?")[0]
    conn = await asyncpg.connect(_asyncpg_dsn(f"{base}/postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.DuplicateDatabaseError:
                pass  # another process won the race
    finally:
        await conn.close()


def alembic_config(migrations_dir: Path, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def migrate(migrations_dir: Path, url: str) -> None:
    # Alembic's env runs its own event loop, so it runs in a worker thread.
    await asyncio.to_thread(command.upgrade, alembic_config(migrations_dir, url), "head")


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    # No pre-ping: it costs round trips on every checkout. Connections are recycled instead, and a dropped one
    # surfaces as a transient error that consumers retry and HTTP clients may retry.
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed at the entry point when the endpoint returns."""
    async with request.app.state.runtime.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": commit before the response is sent, so a 2xx means the change is durable.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
