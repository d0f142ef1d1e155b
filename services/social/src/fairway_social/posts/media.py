"""A post's images at a public, signed URL: Instagram fetches them from there (it takes no uploads)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from fastapi import APIRouter, Response

from fairway_chassis import NotFound, SessionDep
from fairway_social.api import SocialDep
from fairway_social.posts.repository import PostRepository
from fairway_social.state import SocialState

router = APIRouter(prefix="/api/v1/social/media", tags=["posts"])


def _sig(st: SocialState, tenant_id: str, media_id: uuid.UUID) -> str:
    mac = hmac.new((st.settings.state_secret or "").encode(), f"media\x1f{tenant_id}\x1f{media_id}".encode(),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def media_url(st: SocialState, tenant_id: str, media_id: uuid.UUID) -> str:
    return f"{st.settings.public_url.rstrip('/')}/api/v1/social/media/{tenant_id}/{media_id}?sig={_sig(st, tenant_id, media_id)}"


@router.get("/{tenant_id}/{media_id}", include_in_schema=False)
async def media(tenant_id: str, media_id: uuid.UUID, sig: str, session: SessionDep, social: SocialDep) -> Response:
    """No bearer token (the platform fetches it); the signature is the permission, and reveals nothing else."""
    if not hmac.compare_digest(sig, _sig(social, tenant_id, media_id)):
        raise NotFound("no such image")
    item = await PostRepository(session, tenant_id).media_item(media_id)
    if item is None or item.data is None:
        raise NotFound("no such image")
    return Response(item.data, media_type=item.content_type, headers={"Cache-Control": "private, max-age=3600"})
