"""AI-suggested post text."""

from __future__ import annotations

from fastapi import APIRouter

from fairway_chassis import error_responses
from fairway_social.ai import service
from fairway_social.ai.schemas import GenerateIn, GenerateOut
from fairway_social.api import SocialDep, Writer

router = APIRouter(prefix="/api/v1/social/posts", tags=["posts"])


@router.post("/generate", response_model=GenerateOut, responses=error_responses(422, 503))
async def generate(body: GenerateIn, social: SocialDep, principal: Writer) -> GenerateOut:
    """Variants per platform from the AI gateway, each checked against the platform's rules. Nothing is saved:
    create a post with the chosen text."""
    return await service.generate(social.rpc, principal.tenant_id, body, social.settings.ai_timeout_seconds)
