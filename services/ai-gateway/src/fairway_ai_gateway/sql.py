"""The hot path's database access: the few statements every LLM call makes (reserve, then settle + audit) run on
a raw asyncpg pool, not through SQLAlchemy, whose session, pool and result machinery cost more CPU per call than
the statements themselves. asyncpg prepares each statement once per connection and caches it, so a call is one
round trip (bind, execute) and no parsing or planning on the server.

A `Statement` is written once, with SQLAlchemy's `:name` parameters, and runs on either executor: an SQLAlchemy
session or connection (the rare paths that must share a transaction with the outbox, and tests) or an asyncpg
connection (the hot path), where it becomes `$n` positional SQL.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar, cast

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

T = TypeVar("T")
_PARAM = re.compile(r"(?<![:\w]):(\w+)")  # :name, not a ::cast


class Statement:
    def __init__(self, sql: str) -> None:
        self.sa = text(sql)
        self.names: list[str] = []

        def number(m: re.Match[str]) -> str:
            if m.group(1) not in self.names:
                self.names.append(m.group(1))
            return f"${self.names.index(m.group(1)) + 1}"

        self.pg = _PARAM.sub(number, sql)

    async def first(self, ex: Any, params: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The first row (columns by name) or None, on an SQLAlchemy session/connection or an asyncpg one."""
        if isinstance(ex, AsyncSession | AsyncConnection):
            row = (await ex.execute(self.sa, dict(params))).first()
            return None if row is None else cast(Mapping[str, Any], row._mapping)
        record: Mapping[str, Any] | None = await ex.fetchrow(self.pg, *[params[n] for n in self.names])
        return record


# What a connection the database (or the network) dropped looks like to asyncpg: the statement never ran.
_DEAD = (asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.InterfaceError, ConnectionError)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """No reset query (RESET ALL, UNLISTEN, ...: a round trip) when a connection goes back to the pool: the hot
    statements leave no session state (their set_config is local to their own transaction). asyncpg still rolls
    back a transaction left open."""


class HotPool:
    """An asyncpg pool for the hot statements, opened on first use (inside the running loop) and kept open:
    connections are not closed and reopened under load as an overflowing SQLAlchemy pool does."""

    def __init__(self, url: str, *, size: int) -> None:
        self.dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.size = size
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def _get(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self.dsn,
                        min_size=1,
                        max_size=self.size,
                        max_inactive_connection_lifetime=1800,
                        reset=_keep_session,
                    )
        return self._pool

    async def run(self, fn: Callable[[Any], Awaitable[T]]) -> T:
        """fn(connection) in autocommit mode (single statements need no BEGIN/COMMIT round trips). The pool
        replaces a connection it knows the database closed (restart, idle timeout); one closed so recently that
        the pool has not noticed fails before its statement runs, and fn runs once more on a fresh one."""
        pool = await self._get()
        for attempt in (1, 2):
            try:
                async with pool.acquire() as conn:
                    return await fn(conn)
            except _DEAD:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
