"""Copy written by the AI gateway (`content.generate` over Kafka request/reply): for a campaign's channel text, or
as its A/B test's variants. The gateway validates what it returns; what it marks `requiresApproval` is flagged so
the approval gate holds it until a person approved it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns.campaigns import service
from fairway_campaigns.campaigns.repository import Campaign, CampaignRepository
from fairway_campaigns.campaigns.schemas import CampaignIn, GenerateIn
from fairway_campaigns.campaigns.states import Action, target
from fairway_chassis import ServiceUnavailable, Unprocessable
from fairway_chassis.errors import FairwayError
from fairway_events.rpc import RemoteError, RpcClient, RpcError, RpcTimeout
from fairway_schemas.ai import (
    AI_REQUEST_TOPIC,
    AudienceContext,
    ContentGenerateRequest,
    ContentGenerateResult,
)

OPERATION = "content.generate"
_TYPES = {("EMAIL", "subject"): "EMAIL_SUBJECT", ("EMAIL", "body"): "EMAIL_BODY", ("SMS", "body"): "SMS",
          ("PUSH", "body"): "PUSH", ("SOCIAL", "body"): "SOCIAL_POST"}


class BadGateway(FairwayError):
    """The AI gateway failed to answer usefully."""

    status_code = 502


def content_type(channel: str, field: str) -> str:
    t = _TYPES.get((channel, field))
    if t is None:
        raise Unprocessable(f"{channel} has no {field} to write", field="field")
    return t


async def ask(rpc: RpcClient | None, tenant_id: str, request: ContentGenerateRequest, timeout: float
              ) -> ContentGenerateResult:
    if rpc is None:
        raise ServiceUnavailable("the request/reply client is not running")
    try:
        reply = await rpc.request(AI_REQUEST_TOPIC, OPERATION, tenant_id, request.model_dump(mode="json"),
                                  timeout=timeout)
    except RpcTimeout:
        raise ServiceUnavailable(f"the AI gateway did not answer within {timeout:g} s; write the copy instead") from None
    except RemoteError as exc:
        if exc.type == "RequestRejected":
            raise Unprocessable(exc.message, field="body") from None
        raise BadGateway(f"the AI gateway failed: {exc.type}: {exc.message}") from None
    except RpcError as exc:
        raise ServiceUnavailable(f"request/reply unavailable: {exc}") from None
    return ContentGenerateResult.model_validate(reply)


async def generate(session: AsyncSession, rpc: RpcClient | None, tenant_id: str, campaign_id: str, body: GenerateIn,
                   now: datetime, timeout: float = 20.0) -> tuple[ContentGenerateResult, Campaign]:
    campaign = await service.get(session, tenant_id, campaign_id)
    target(Action.EDIT, campaign.state)
    if body.channel not in campaign.channels:
        raise Unprocessable(f"the campaign does not use {body.channel}", field="channel")
    request = ContentGenerateRequest(
        type=content_type(body.channel, body.field),  # type: ignore[arg-type]
        campaignGoal=campaign.goal or campaign.name,
        audience=AudienceContext(segmentName=campaign.target_segment_id or campaign.name),
        tone=body.tone, variantCount=body.variants, maxLength=body.maxLength, includeEmoji=body.includeEmoji,
        callToAction=body.callToAction,
    )
    result = await ask(rpc, tenant_id, request, timeout)
    if not result.variants:
        raise BadGateway("the AI gateway returned no copy")
    if body.use == "NONE":
        return result, campaign
    campaign = await service.get(session, tenant_id, campaign_id, lock=True)
    target(Action.EDIT, campaign.state)
    data = service.as_input(campaign).model_dump(mode="json")
    if body.use == "CONTENT":
        piece: dict[str, Any] = data["content"][body.channel]
        piece[body.field] = result.variants[0].content
        piece["generatedBy"] = result.decisionId or result.source
        piece["requiresApproval"] = bool(piece.get("requiresApproval")) or result.requiresApproval
    else:  # AB_VARIANTS
        if len(result.variants) < 2:
            raise Unprocessable("an A/B test needs at least 2 variants", field="variants")
        ab = data.get("abTest") or {}
        ab["variants"] = [{"name": chr(65 + i), body.field: v.content, "requiresApproval": result.requiresApproval}
                          for i, v in enumerate(result.variants)]
        data["abTest"] = ab
    updated = CampaignIn.model_validate(data)
    await CampaignRepository(session, tenant_id).update(campaign_id, {**service.definition(updated),
                                                                      "updated_at": now})
    return result, await service.get(session, tenant_id, campaign_id)
