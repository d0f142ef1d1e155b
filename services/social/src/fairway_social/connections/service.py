"""Connecting accounts (OAuth with a signed, single-use state), keeping their tokens fresh, and noticing when a
platform stops accepting them.

Token refresh holds the connection's row lock across the platform call: X refresh tokens are single-use, so two
refreshes racing with the same refresh token would leave one of them with a dead chain. With the lock, the second
waits, then finds a fresh token and does not refresh at all. The new access and refresh tokens are written in
one statement, in the same transaction that released the lock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from uuid_utils.compat import uuid7

from fairway_chassis import BadRequest, Conflict, Forbidden, NotFound
from fairway_events import outbox, registry
from fairway_events.contracts.social import SocialConnectionConnected, SocialConnectionNeedsReconnect
from fairway_social.connections.repository import (
    ACTIVE,
    DISCONNECTED,
    NEEDS_RECONNECT,
    Connection,
    ConnectionRepository,
    OAuthState,
)
from fairway_social.crypto import TokenCipher
from fairway_social.errors import MissingScopes, NeedsReconnect
from fairway_social.platforms.base import (
    OPTIONAL_SCOPES,
    REQUIRED_SCOPES,
    Account,
    Platform,
    PlatformError,
    TokenRevoked,
    TokenSet,
)
from fairway_social.platforms.x import pkce_pair
from fairway_social.state import SocialState
from fairway_social.targets import cancel_connection, hold_connection, resume_connection, wait_reason

SOURCE = "social"


# -- OAuth state ------------------------------------------------------------------------------------------
def _sign(secret: str, nonce: str, tenant_id: str, user_id: str, platform: str, expires_at: datetime) -> str:
    msg = "\x1f".join((nonce, tenant_id, user_id, platform, str(int(expires_at.timestamp())))).encode()
    return base64.urlsafe_b64encode(hmac.new(secret.encode(), msg, hashlib.sha256).digest()).decode().rstrip("=")


async def authorize(session: AsyncSession, st: SocialState, tenant_id: str, user_id: str,
                    platform: Platform) -> tuple[str, datetime]:
    """The platform's consent URL, with a state bound to this tenant and user (and a PKCE challenge for X)."""
    now = st.now()
    nonce = secrets.token_urlsafe(24)
    expires_at = now + timedelta(seconds=st.settings.state_ttl_seconds)
    state = f"{nonce}.{_sign(st.settings.state_secret or '', nonce, tenant_id, user_id, platform, expires_at)}"
    verifier_ct = None
    if platform == "X":
        verifier, challenge = pkce_pair()
        verifier_ct = st.cipher.encrypt(verifier, TokenCipher.context(tenant_id, nonce, "pkce"))
        url = st.platforms.x.authorize_url(state, challenge)
    else:
        url = st.platforms.graph.authorize_url(platform, state)
    await ConnectionRepository(session, tenant_id).add_state(
        OAuthState(nonce, tenant_id, user_id, platform, verifier_ct, expires_at, None))
    return url, expires_at


async def _redeem_state(session: AsyncSession, st: SocialState, tenant_id: str, user_id: str, platform: str,
                        state: str) -> OAuthState:
    nonce, _, sig = state.partition(".")
    repo = ConnectionRepository(session, tenant_id)
    row = await repo.get_state(nonce) if nonce and sig else None
    # Another tenant's state is not found at all (the lookup is scoped): it reads as forged, and says nothing.
    if row is None or not hmac.compare_digest(
            sig, _sign(st.settings.state_secret or "", row.nonce, row.tenant_id, row.user_id, row.platform,
                       row.expires_at)):
        raise BadRequest("the state was not issued by Fairway for this club; start the connection again")
    if row.user_id != user_id:
        raise Forbidden("the state belongs to another user's connection attempt")
    if row.platform != platform:
        raise BadRequest(f"the state was issued for {row.platform}, not {platform}")
    if row.used_at is not None or not await repo.use_state(nonce, st.now()):
        raise BadRequest("the state was already used; start the connection again")
    if row.expires_at <= st.now():
        raise BadRequest("the state expired; start the connection again")
    return row


async def complete(session: AsyncSession, st: SocialState, tenant_id: str, user_id: str, platform: Platform,
                   code: str | None, state: str, error: str | None = None) -> tuple[list[Connection], list[str]]:
    """The callback: check the state, exchange the code, read the account(s), store the connection(s).
    Returns the connections and the optional scopes that were not granted."""
    row = await _redeem_state(session, st, tenant_id, user_id, platform, state)
    if error or not code:
        raise BadRequest(f"{platform.title()} did not grant access: {error or 'no code in the callback'}")
    try:
        if platform == "X":
            assert row.verifier is not None
            verifier = st.cipher.decrypt(row.verifier, TokenCipher.context(tenant_id, row.nonce, "pkce"))
            tokens = await st.platforms.x.exchange_code(code, verifier)
            accounts, granted = [await st.platforms.x.account(tokens)], tokens.scopes
        else:
            user_token = await st.platforms.graph.exchange_code(code)
            accounts, granted = await st.platforms.graph.accounts(platform, user_token)
    except PlatformError as exc:
        raise BadRequest(exc.message) from None
    missing = [s for s in REQUIRED_SCOPES[platform] if s not in granted]
    if missing:
        raise MissingScopes(platform, missing)
    if not accounts:
        raise BadRequest("the consent reached no Facebook page" if platform == "FACEBOOK"
                         else "no Instagram business account is linked to the pages the consent reached")
    optional_missing = [s for s in OPTIONAL_SCOPES[platform] if s not in granted]
    stored = [await _store(session, st, tenant_id, user_id, a, granted, optional_missing) for a in accounts]
    return stored, optional_missing


async def _store(session: AsyncSession, st: SocialState, tenant_id: str, user_id: str, account: Account,
                 granted: list[str], optional_missing: list[str]) -> Connection:
    repo = ConnectionRepository(session, tenant_id)
    now = st.now()
    cid = await repo.upsert(new_id=uuid7(), platform=account.platform, account_id=account.account_id,
                            account_name=account.name, handle=account.handle, scopes=granted,
                            expires_at=account.tokens.expires_at, connected_by=user_id, now=now)
    await _write_tokens(repo, st.cipher, tenant_id, cid, account.tokens, now)
    await outbox.append(session, registry.envelope(SocialConnectionConnected(
        connectionId=str(cid), platform=account.platform, accountId=account.account_id, accountName=account.name,
        scopes=granted, missingOptionalScopes=optional_missing, connectedBy=user_id, at=now,
    ), tenant_id=tenant_id, aggregate_id=str(cid), source=SOURCE))
    # Posts that waited for this account to be reconnected can go again.
    if st.jobs is not None:
        await resume_connection(session, st.jobs, tenant_id, cid, now)
    conn = await repo.get(cid)
    assert conn is not None
    return conn


async def _write_tokens(repo: ConnectionRepository, cipher: TokenCipher, tenant_id: str, cid: uuid.UUID,
                        tokens: TokenSet, now: datetime, *, refreshed: bool = True) -> None:
    await repo.set_tokens(
        cid, now=now, expires_at=tokens.expires_at, refreshed=refreshed,
        access_token=cipher.encrypt(tokens.access_token, TokenCipher.context(tenant_id, str(cid), "access")),
        refresh_token=cipher.encrypt(tokens.refresh_token, TokenCipher.context(tenant_id, str(cid), "refresh"))
        if tokens.refresh_token else None)


# -- tokens for use -----------------------------------------------------------------------------------------
async def access_token(sessionmaker: async_sessionmaker[AsyncSession], st: SocialState, tenant_id: str,
                       connection_id: uuid.UUID, *, force_refresh: bool = False) -> tuple[Connection, str]:
    """A usable access token for the connection, refreshed first if it expires within the margin (or if
    `force_refresh`, after the platform refused it). Raises NeedsReconnect when the platform will not have it;
    a transient platform error propagates as it is and changes nothing."""
    async with sessionmaker() as session, session.begin():
        outcome = await _usable_token(session, st, tenant_id, connection_id, force_refresh)
    # Raised after the commit: marking the connection NEEDS_RECONNECT must stick.
    if isinstance(outcome, NeedsReconnect):
        raise outcome
    return outcome


async def _usable_token(session: AsyncSession, st: SocialState, tenant_id: str, connection_id: uuid.UUID,
                        force_refresh: bool) -> tuple[Connection, str] | NeedsReconnect:
    repo = ConnectionRepository(session, tenant_id)
    conn = await repo.get(connection_id, lock=True)
    if conn is None or conn.status == DISCONNECTED:
        raise NotFound(f"no connection {connection_id}")
    if conn.status != ACTIVE or conn.access_token is None:
        return NeedsReconnect(conn.status_reason or "the account must be reconnected")
    now = st.now()
    token = st.cipher.decrypt(conn.access_token, TokenCipher.context(tenant_id, str(conn.id), "access"))
    refresh = st.cipher.decrypt(conn.refresh_token, TokenCipher.context(
        tenant_id, str(conn.id), "refresh")) if conn.refresh_token else None
    due = conn.expires_at is not None and conn.expires_at - now <= timedelta(seconds=st.settings.refresh_margin_seconds)
    # After a 401, refresh unless another caller has just done so (it held the lock; its token is fresh).
    just_refreshed = conn.refreshed_at is not None and now - conn.refreshed_at < timedelta(seconds=5)
    if refresh and (due or (force_refresh and not just_refreshed)):
        try:
            tokens = await st.platforms.x.refresh(refresh)
        except TokenRevoked as exc:
            await mark_needs_reconnect(session, st, conn, exc.message)
            return NeedsReconnect(exc.message)
        # A platform that does not rotate answers without a refresh token: the old one stays valid.
        tokens = TokenSet(tokens.access_token, tokens.refresh_token or refresh, tokens.expires_at, tokens.scopes)
        await _write_tokens(repo, st.cipher, tenant_id, conn.id, tokens, now)
        return conn, tokens.access_token
    if conn.expires_at is not None and conn.expires_at <= now and not refresh:
        reason = f"the {conn.platform.title()} token expired and cannot be refreshed"
        await mark_needs_reconnect(session, st, conn, reason)
        return NeedsReconnect(reason)
    # Lazy key rotation: tokens under an old key are re-encrypted under the current one as they are read.
    if st.cipher.needs_rotation(conn.access_token) or (conn.refresh_token and st.cipher.needs_rotation(
            conn.refresh_token)):
        await _write_tokens(repo, st.cipher, tenant_id, conn.id, TokenSet(token, refresh, conn.expires_at, conn.scopes),
                            now, refreshed=False)
    return conn, token


async def mark_needs_reconnect(session: AsyncSession, st: SocialState, conn: Connection, reason: str) -> None:
    """The platform refuses the connection for good: say so on it, on its waiting posts, and in an event."""
    if conn.status == NEEDS_RECONNECT:
        return
    repo = ConnectionRepository(session, conn.tenant_id)
    now = st.now()
    await repo.set_status(conn.id, NEEDS_RECONNECT, reason, now)
    waiting = await hold_connection(session, conn.tenant_id, conn.id,
                                    wait_reason(conn.platform, conn.account_name, reason), now)
    await outbox.append(session, registry.envelope(SocialConnectionNeedsReconnect(
        connectionId=str(conn.id), platform=conn.platform, accountId=conn.account_id,  # type: ignore[arg-type]
        accountName=conn.account_name, reason=reason, waitingPosts=waiting, at=now,
    ), tenant_id=conn.tenant_id, aggregate_id=str(conn.id), source=SOURCE))


async def disconnect(session: AsyncSession, st: SocialState, tenant_id: str, connection_id: uuid.UUID) -> None:
    """Forget the tokens; the row stays for the posts' history. Scheduled posts on it are cancelled for it."""
    repo = ConnectionRepository(session, tenant_id)
    conn = await repo.get(connection_id, lock=True)
    if conn is None or conn.status == DISCONNECTED:
        raise NotFound(f"no connection {connection_id}")
    if await cancel_connection(session, tenant_id, connection_id, st.now()) < 0:
        raise Conflict("a post is being published on this connection right now; try again in a moment")
    await repo.set_status(connection_id, DISCONNECTED, "disconnected by the club", st.now(), wipe_tokens=True)
