"""Request/reply contracts of the AI gateway's operations (reached over Kafka, see fairway_events.rpc)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fairway_schemas.criteria import FieldSpec, Group

AI_REQUEST_TOPIC = "crm.ai.requests"
Source = Literal["LLM", "CACHE", "FALLBACK"]


class SegmentParseRequest(BaseModel):
    model_config = ConfigDict(frozen=True)
    query: str = Field(min_length=1, max_length=1000)
    fields: list[FieldSpec] | None = None  # None: the standard catalogue of fairway_schemas.criteria
    existingSegments: list[str] = Field(default_factory=list)


class SegmentParseResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    criteria: Group
    interpretation: str
    assumptions: list[str] = Field(default_factory=list)
    source: Source
    decisionId: str | None = None
    model: str | None = None
