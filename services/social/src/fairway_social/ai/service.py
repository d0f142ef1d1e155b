"""Post text from the AI gateway (`content.generate`, type SOCIAL_POST, one request per platform, over Kafka
request/reply). The gateway owns cost caps, PII scrubbing and fallbacks; this only asks, and checks each variant
against the platform's rules before showing it."""

from __future__ import annotations

from fairway_chassis import ServiceUnavailable, Unprocessable
from fairway_events.rpc import RemoteError, RpcClient, RpcError, RpcTimeout
from fairway_schemas.ai import AI_REQUEST_TOPIC, ContentGenerateRequest, ContentGenerateResult
from fairway_social.ai.schemas import GenerateIn, GenerateOut, PlatformSuggestions, Suggestion
from fairway_social.posts import rules

OPERATION = "content.generate"


async def generate(rpc: RpcClient | None, tenant_id: str, body: GenerateIn, timeout: float) -> GenerateOut:
    if rpc is None:
        raise ServiceUnavailable("the request/reply client is not running")
    out = []
    for platform in dict.fromkeys(body.platforms):
        request = ContentGenerateRequest(
            type="SOCIAL_POST", platform=platform, campaignGoal=body.goal, tone=body.tone,
            variantCount=body.variantCount, maxLength=min(rules.LIMITS[platform].max_chars, 10000),
            includeEmoji=body.includeEmoji, callToAction=body.callToAction)
        try:
            raw = await rpc.request(AI_REQUEST_TOPIC, OPERATION, tenant_id, request.model_dump(mode="json"),
                                    timeout=timeout)
        except RpcTimeout:
            raise ServiceUnavailable(f"the AI gateway did not answer within {timeout:g} s") from None
        except RemoteError as exc:
            if exc.type == "RequestRejected":
                raise Unprocessable(exc.message, field="goal") from None
            raise ServiceUnavailable(f"the AI gateway failed: {exc.type}: {exc.message}") from None
        except RpcError as exc:
            raise ServiceUnavailable(f"request/reply unavailable: {exc}") from None
        result = ContentGenerateResult.model_validate(raw)
        variants = []
        for v in result.variants:
            problems = [p["message"] for p in rules.check(platform, v.content, [], None, []) if p["field"] == "text"]
            variants.append(Suggestion(id=v.id, content=v.content, approach=v.approach, fits=not problems,
                                       problems=problems))
        out.append(PlatformSuggestions(platform=platform, variants=variants, source=result.source,
                                       decisionId=result.decisionId, requiresApproval=result.requiresApproval,
                                       fallbackReason=result.fallbackReason, warnings=result.warnings))
    return GenerateOut(platforms=out)
