from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from fairway_campaigns.campaigns.states import State


class VariantResult(BaseModel):
    variant: str | None  # None: the whole campaign (or a campaign without an A/B test)
    channel: str | None = None  # set in `channels`: this variant's (or the campaign's) messages on one channel
    targeted: int  # recipients handed to dispatch
    requested: int  # send requests that went to Messaging
    held: int  # waiting in dispatch (quiet hours, best time)
    skipped: dict[str, int] = Field(default_factory=dict)  # by dispatch's reason: NO_CONSENT, CAPPED, ...
    sent: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    bounced: int = 0
    unsubscribed: int = 0
    converted: int = 0
    revenue: Decimal = Decimal(0)  # attributed: bookings and purchases within the attribution window
    openRate: float = 0.0
    clickRate: float = 0.0
    conversionRate: float = 0.0
    channels: list[VariantResult] = Field(default_factory=list)  # the same, per channel

    @classmethod
    def total(cls, parts: list[VariantResult]) -> VariantResult:
        skipped: dict[str, int] = {}
        for p in parts:
            for k, v in p.skipped.items():
                skipped[k] = skipped.get(k, 0) + v
        sums: dict[str, Any] = {f: sum(getattr(p, f) for p in parts) for f in (
            "targeted", "requested", "held", "sent", "delivered", "opened", "clicked", "bounced", "unsubscribed",
            "converted")}
        revenue = sum((p.revenue for p in parts), Decimal(0))
        req = sums["requested"]
        return cls(variant=None, skipped=skipped, revenue=revenue, **sums,
                   openRate=round(sums["opened"] / req, 4) if req else 0.0,
                   clickRate=round(sums["clicked"] / req, 4) if req else 0.0,
                   conversionRate=round(sums["converted"] / req, 4) if req else 0.0)


class HourStats(BaseModel):
    COUNTS: ClassVar[tuple[str, ...]] = ("requested", "sent", "delivered", "opened", "clicked", "bounced",
                                         "unsubscribed", "converted")
    hour: datetime
    requested: int = 0
    sent: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    bounced: int = 0
    unsubscribed: int = 0
    converted: int = 0


class UpliftStats(BaseModel):
    """Conversion of those reached against the tenant's control group members in the audience (never sent)."""

    controlSize: int
    controlConverted: int
    controlConversionRate: float
    treatedConversionRate: float
    absoluteUplift: float | None
    relativeUplift: float | None


class CampaignStats(BaseModel):
    campaignId: str
    state: State
    audienceSize: int | None
    submitted: int  # recipients handed to dispatch so far (the fan-out's checkpoint)
    total: VariantResult
    variants: list[VariantResult]
    hourly: list[HourStats]
    uplift: UpliftStats
    metric: str | None = None
    abTest: dict[str, Any] | None = None  # the A/B test's decision and statistics, once decided
