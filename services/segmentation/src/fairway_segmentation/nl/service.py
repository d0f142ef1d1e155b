"""The natural-language builder: the AI gateway's `segment.parse` (Kafka request/reply) turns a sentence into
criteria; this service checks them against its own catalogue and sizes them on its read model."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import Principal, ServiceUnavailable, Unprocessable
from fairway_events.rpc import RemoteError, RpcClient, RpcError, RpcTimeout, UnknownOperation
from fairway_schemas.ai import AI_REQUEST_TOPIC, SegmentParseRequest, SegmentParseResult
from fairway_schemas.criteria import check_criteria
from fairway_schemas.criteria_eval import fields_used, time_sensitivity
from fairway_schemas.criteria_sql import compile_criteria
from fairway_schemas.criteria_text import describe
from fairway_segmentation.errors import BadGateway, GatewayTimeout
from fairway_segmentation.readmodel.fields import CATALOGUE, COLUMNS
from fairway_segmentation.readmodel.repository import ProfileRepository
from fairway_segmentation.segments.criteria import criteria_warnings
from fairway_segmentation.segments.repository import SegmentRepository

OPERATION = "segment.parse"


class NlIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=1000)


class NlOut(BaseModel):
    criteria: dict[str, Any]
    interpretation: str
    assumptions: list[str]
    estimatedSize: int
    warnings: list[str]
    suggestions: list[str]
    source: Literal["LLM", "CACHE", "FALLBACK"]
    decisionId: str | None = None
    model: str | None = None
    reading: str = Field(description="the criteria in plain language")
    partial: bool = Field(description="only part of the query was understood: check `unparsed` before saving")
    unparsed: list[str] = Field(description="the parts of the query that were not understood, with why")


async def ask_gateway(
    rpc: RpcClient | None, tenant_id: str, request: SegmentParseRequest, timeout: float
) -> dict[str, Any]:
    if rpc is None:
        raise ServiceUnavailable("the request/reply client is not running")
    try:
        return await rpc.request(
            AI_REQUEST_TOPIC, OPERATION, tenant_id, request.model_dump(mode="json"), timeout=timeout
        )
    except RpcTimeout:
        raise GatewayTimeout(
            f"the AI gateway did not answer within {timeout:g} s; try again, or build the rules in the editor"
        ) from None
    except UnknownOperation:
        raise BadGateway("the AI gateway does not offer segment.parse") from None
    except RemoteError as exc:
        if exc.type == "RequestRejected":
            raise Unprocessable(exc.message, field="query") from None
        raise BadGateway(f"the AI gateway failed: {exc.type}: {exc.message}") from None
    except RpcError as exc:
        raise ServiceUnavailable(f"request/reply unavailable: {exc}") from None


async def build(
    session: AsyncSession,
    principal: Principal,
    body: NlIn,
    *,
    rpc: RpcClient | None,
    now: datetime,
    timeout: float,
) -> NlOut:
    tenant_id = principal.tenant_id
    existing = await SegmentRepository.for_tenant(session, tenant_id).all()
    request = SegmentParseRequest(
        query=body.query,
        fields=list(CATALOGUE.values()),
        existingSegments=[s.name for s in existing][:200],
    )
    raw = await ask_gateway(rpc, tenant_id, request, timeout)

    # Our catalogue is the judge: the answer is checked exactly as a segment a person typed would be.
    group, errors = check_criteria(raw.get("criteria") if isinstance(raw, dict) else None, CATALOGUE)
    if group is None:
        raise BadGateway(
            [{"field": f"criteria.{e.path}", "message": e.message} for e in errors]
            or "the AI gateway answered without criteria"
        )
    try:
        result = SegmentParseResult.model_validate(raw)
    except ValidationError as exc:
        raise BadGateway(
            f"the AI gateway's answer does not fit segment.parse: {exc.errors()[0]['msg']}"
        ) from None

    if not group.rules:
        # Never an answer: a segment without rules is the whole club.
        raise Unprocessable("nothing in the query could be read as a condition"
                            + (f" (not understood: {'; '.join(result.unparsed)})" if result.unparsed else "")
                            + "; rephrase it or build the rules in the editor", field="query")
    profiles = ProfileRepository.for_tenant(session, tenant_id)
    size = await profiles.count(compile_criteria(group, COLUMNS, now=now, catalogue=CATALOGUE))
    empty = await profiles.fields_without_data(sorted(fields_used(group)))
    warnings = criteria_warnings(group, size, empty) + [str(w) for w in _strings(raw.get("warnings"))]
    suggestions = [str(s) for s in _strings(raw.get("suggestions"))]
    if result.source == "FALLBACK":
        suggestions.append(
            "The AI model was unavailable, so the gateway's rule-based parser built these criteria; "
            "check them before saving."
        )
    same = [s.name for s in existing if s.criteria == group.dump()]
    if same:
        suggestions.append(f"The existing segment {same[0]!r} already has these criteria.")
    if size == 0 and time_sensitivity(group, CATALOGUE) is not None:
        suggestions.append(
            "Nobody matches yet: a wider time window (e.g. -60 days instead of -30) may find people."
        )
    return NlOut(
        criteria=group.dump(),
        interpretation=result.interpretation,
        assumptions=result.assumptions,
        estimatedSize=size,
        warnings=warnings,
        suggestions=suggestions,
        source=result.source,
        decisionId=result.decisionId,
        model=result.model,
        reading=result.reading or describe(group, CATALOGUE),
        partial=result.partial,
        unparsed=result.unparsed,
    )


def _strings(v: Any) -> list[Any]:
    # The contract has no warnings/suggestions yet; take them if a newer gateway sends them.
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []
