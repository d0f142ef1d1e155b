"""What the admin API answers, as its OpenAPI shows it. The documents are built as plain JSON by the endpoints;
these models describe their fields and allow fields added later, so nothing is dropped on the way out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Document(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class BudgetStatus(Document):
    today: dict[str, Any]
    thisHour: dict[str, Any]
    month: dict[str, Any]
    throttleFactor: float
    disabled: bool
    outstandingReservations: Any = None
    offline: bool
    circuits: Any = None


class ConfigOut(Document):
    """The tenant's TenantAIConfig document (its fields at the top level) with the tenant and budget status."""

    tenantId: str
    status: BudgetStatus


class ConfigChanged(Document):
    """The tenant's TenantAIConfig document after the change, and which fields changed."""

    tenantId: str
    changedFields: list[str]


class Usage(Document):
    tenantId: str
    range: str
    from_: str = Field(alias="from")
    to: str
    currency: str
    totals: dict[str, Any]
    byDay: list[dict[str, Any]]
    byOperation: list[dict[str, Any]]
    budget: BudgetStatus


class Quality(Document):
    tenantId: str
    range: str
    systemMetrics: dict[str, Any]
    fallbackReasons: Any = None
    byOperation: dict[str, dict[str, Any]]
    contentMetrics: dict[str, Any]
    segmentMetrics: dict[str, Any]
    circuits: Any = None


class TestRun(Document):
    operation: str
    result: dict[str, Any]
    sentOnward: bool


class Explanation(Document):
    decisionId: Any
    operation: str | None = None
    decisionType: str | None = None
    createdAt: str
    source: str | None = None
    model: str | None = None
    fallbackReason: str | None = None
    explanation: str
    steps: list[Any]
    privacy: dict[str, Any]
    cost: dict[str, Any]
