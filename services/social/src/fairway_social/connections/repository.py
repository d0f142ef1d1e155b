"""All SQL on connections and OAuth states, for one tenant. Tokens come and go as ciphertexts only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_social.db import connections, oauth_states, post_targets

ACTIVE = "ACTIVE"
NEEDS_RECONNECT = "NEEDS_RECONNECT"
DISCONNECTED = "DISCONNECTED"


@dataclass(frozen=True)
class Connection:
    id: uuid.UUID
    tenant_id: str
    platform: str
    account_id: str
    account_name: str
    handle: str | None
    status: str
    status_reason: str | None
    scopes: list[str]
    expires_at: datetime | None
    refreshed_at: datetime | None
    connected_by: str
    connected_at: datetime
    updated_at: datetime
    # ciphertexts, never shown (repr=False keeps them out of logs and tracebacks too)
    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class OAuthState:
    nonce: str
    tenant_id: str
    user_id: str
    platform: str
    verifier: str | None
    expires_at: datetime
    used_at: datetime | None


class ConnectionRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def _scope(self) -> Any:
        return connections.c.tenant_id == self.tenant_id

    async def list(self) -> list[Connection]:
        rows = (await self.session.execute(
            select(connections).where(self._scope()).order_by(connections.c.platform, connections.c.account_name)
        )).all()
        return [Connection(**r._mapping) for r in rows]

    async def get(self, connection_id: uuid.UUID, *, lock: bool = False) -> Connection | None:
        """`lock`: FOR UPDATE, held to the end of the transaction (token refreshes are serialised on it)."""
        q = select(connections).where(self._scope(), connections.c.id == connection_id)
        if lock:
            q = q.with_for_update()
        row = (await self.session.execute(q)).first()
        return Connection(**row._mapping) if row else None

    async def active(self, ids: list[uuid.UUID] | None = None, platforms: list[str] | None = None) -> list[Connection]:
        q = select(connections).where(self._scope(), connections.c.status == ACTIVE)
        if ids is not None:
            q = q.where(connections.c.id.in_(ids))
        if platforms:
            q = q.where(connections.c.platform.in_(platforms))
        return [Connection(**r._mapping) for r in (await self.session.execute(q)).all()]

    async def by_ids(self, ids: list[uuid.UUID]) -> list[Connection]:
        q = select(connections).where(self._scope(), connections.c.id.in_(ids))
        return [Connection(**r._mapping) for r in (await self.session.execute(q)).all()]

    async def upsert(self, *, new_id: uuid.UUID, platform: str, account_id: str, account_name: str,
                     handle: str | None, scopes: list[str], expires_at: datetime | None, connected_by: str,
                     now: datetime) -> uuid.UUID:
        """Insert or revive the tenant's connection to this account (reconnecting keeps its id and history);
        tokens are set separately, since their encryption is bound to the row's id."""
        values = dict(platform=platform, account_id=account_id, account_name=account_name, handle=handle,
                      status=ACTIVE, status_reason=None, scopes=scopes, expires_at=expires_at, refreshed_at=now,
                      connected_by=connected_by, connected_at=now, updated_at=now)
        stmt = insert(connections).values(id=new_id, tenant_id=self.tenant_id, **values)
        stmt = stmt.on_conflict_do_update(constraint="uq_connections_tenant_id_platform_account_id", set_=values)
        return (await self.session.execute(stmt.returning(connections.c.id))).scalar_one()

    async def set_tokens(self, connection_id: uuid.UUID, *, access_token: str, refresh_token: str | None,
                         expires_at: datetime | None, now: datetime, refreshed: bool = True) -> None:
        values: dict[str, Any] = dict(access_token=access_token, refresh_token=refresh_token, expires_at=expires_at,
                                      updated_at=now)
        if refreshed:
            values["refreshed_at"] = now
        await self.session.execute(update(connections).where(self._scope(), connections.c.id == connection_id)
                                   .values(**values))

    async def set_status(self, connection_id: uuid.UUID, status: str, reason: str | None, now: datetime,
                         *, wipe_tokens: bool = False) -> None:
        values: dict[str, Any] = dict(status=status, status_reason=reason, updated_at=now)
        if wipe_tokens:
            values.update(access_token=None, refresh_token=None, expires_at=None)
        await self.session.execute(update(connections).where(self._scope(), connections.c.id == connection_id)
                                   .values(**values))

    async def waiting_posts(self, connection_id: uuid.UUID) -> int:
        return (await self.session.execute(
            select(func.count()).select_from(post_targets).where(
                post_targets.c.tenant_id == self.tenant_id, post_targets.c.connection_id == connection_id,
                post_targets.c.status.in_(("SCHEDULED", "PENDING", "WAITING")))
        )).scalar_one()

    # -- OAuth states -------------------------------------------------------------------------------------
    async def add_state(self, s: OAuthState) -> None:
        await self.session.execute(oauth_states.insert().values(
            nonce=s.nonce, tenant_id=self.tenant_id, user_id=s.user_id, platform=s.platform, verifier=s.verifier,
            expires_at=s.expires_at))

    async def get_state(self, nonce: str) -> OAuthState | None:
        row = (await self.session.execute(select(oauth_states).where(
            oauth_states.c.tenant_id == self.tenant_id, oauth_states.c.nonce == nonce))).first()
        return OAuthState(**row._mapping) if row else None

    async def use_state(self, nonce: str, now: datetime) -> bool:
        """Mark the state used; False if it was used already (by a concurrent callback, too: the row is locked)."""
        result = await self.session.execute(
            update(oauth_states).where(oauth_states.c.tenant_id == self.tenant_id, oauth_states.c.nonce == nonce,
                                       oauth_states.c.used_at.is_(None)).values(used_at=now)
            .returning(oauth_states.c.nonce))
        return result.first() is not None
