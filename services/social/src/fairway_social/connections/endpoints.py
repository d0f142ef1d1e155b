"""Connecting a club's Facebook pages, Instagram business accounts and X accounts."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from fairway_chassis import SessionDep, error_responses
from fairway_social.api import Connector, Reader, SocialDep
from fairway_social.connections import service
from fairway_social.connections.repository import Connection, ConnectionRepository
from fairway_social.connections.schemas import (
    AuthorizeOut,
    CallbackIn,
    CallbackOut,
    ConnectionList,
    ConnectionOut,
    PlatformPath,
)
from fairway_social.platforms.base import Platform

router = APIRouter(prefix="/api/v1/social/connections", tags=["connections"])


def _platform(p: PlatformPath) -> Platform:
    return p.upper()  # type: ignore[return-value]


def out(c: Connection, waiting: int = 0) -> ConnectionOut:
    return ConnectionOut(id=str(c.id), platform=c.platform, accountId=c.account_id, accountName=c.account_name,
                         handle=c.handle, status=c.status, statusReason=c.status_reason, scopes=c.scopes,
                         tokenExpiresAt=c.expires_at, connectedBy=c.connected_by, connectedAt=c.connected_at,
                         waitingPosts=waiting)


@router.get("", response_model=ConnectionList)
async def list_connections(session: SessionDep, principal: Reader) -> ConnectionList:
    repo = ConnectionRepository(session, principal.tenant_id)
    return ConnectionList(items=[out(c, await repo.waiting_posts(c.id)) for c in await repo.list()
                                 if c.status != "DISCONNECTED"])


@router.post("/{platform}/authorize", response_model=AuthorizeOut, responses=error_responses(403))
async def authorize(platform: PlatformPath, session: SessionDep, social: SocialDep,
                    principal: Connector) -> AuthorizeOut:
    """The URL to send the user to; its `state` is signed, single-use, expires, and is bound to this tenant and
    user (for X it carries a PKCE challenge too)."""
    url, expires_at = await service.authorize(session, social, principal.tenant_id, principal.subject,
                                              _platform(platform))
    return AuthorizeOut(platform=_platform(platform), authorizationUrl=url, expiresAt=expires_at)


@router.post("/{platform}/callback", response_model=CallbackOut, responses=error_responses(400, 403, 422))
async def callback(platform: PlatformPath, body: CallbackIn, session: SessionDep, social: SocialDep,
                   principal: Connector) -> CallbackOut:
    """Complete the connection with the code and state the platform sent back to the redirect URI."""
    stored, optional_missing = await service.complete(session, social, principal.tenant_id, principal.subject,
                                                      _platform(platform), body.code, body.state, body.error)
    return CallbackOut(connections=[out(c) for c in stored], missingOptionalScopes=optional_missing)


@router.delete("/{connection_id}", status_code=204, responses=error_responses(404, 409))
async def delete_connection(connection_id: uuid.UUID, session: SessionDep, social: SocialDep,
                            principal: Connector) -> Response:
    await service.disconnect(session, social, principal.tenant_id, connection_id)
    return Response(status_code=204)
