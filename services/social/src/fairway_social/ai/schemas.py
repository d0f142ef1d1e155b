from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Platform = Literal["FACEBOOK", "INSTAGRAM", "X"]


class GenerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platforms: list[Platform] = Field(min_length=1, max_length=3)
    goal: str = Field(min_length=1, max_length=500, description="what the post is for, e.g. 'fill the Spring Open field'")
    tone: Literal["FORMAL", "FRIENDLY", "URGENT", "PLAYFUL"] = "FRIENDLY"
    variantCount: int = Field(default=3, ge=1, le=5)
    callToAction: str | None = Field(default=None, max_length=100)
    includeEmoji: bool = False
    campaignId: str | None = Field(default=None, max_length=100)


class Suggestion(BaseModel):
    id: str
    content: str
    approach: str
    fits: bool  # within the platform's rules as it stands
    problems: list[str]


class PlatformSuggestions(BaseModel):
    platform: Platform
    variants: list[Suggestion]
    source: str  # LLM, CACHE or FALLBACK (the gateway's templates)
    decisionId: str | None
    requiresApproval: bool  # the gateway asks for review: campaigns' approval rules apply before it is used
    fallbackReason: str | None
    warnings: list[str]


class GenerateOut(BaseModel):
    platforms: list[PlatformSuggestions]
