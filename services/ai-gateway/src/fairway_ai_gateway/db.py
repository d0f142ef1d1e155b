"""The ai-gateway service's tables all hang off this metadata; migrations/ builds them."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from fairway_chassis import make_metadata
from fairway_events import event_tables

metadata = make_metadata()
outbox_table, inbox_table = event_tables(metadata)

# One row per tenant: its TenantAIConfig document (camelCase, as the admin API shows it).
tenant_config = Table(
    "ai_tenant_config",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("doc", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_by", Text, nullable=False),
)

# One row per tenant: running spend and call counts of its current day, hour and month (tenant's timezone).
# Costs are micro-dollars and include outstanding reservations, so one UPDATE can check and reserve.
budget = Table(
    "ai_budget",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("day_key", Text, nullable=False, server_default=""),
    Column("day_cost", BigInteger, nullable=False, server_default="0"),
    Column("day_calls", Integer, nullable=False, server_default="0"),
    Column("hour_key", Text, nullable=False, server_default=""),
    Column("hour_calls", Integer, nullable=False, server_default="0"),
    Column("month_key", Text, nullable=False, server_default=""),
    Column("month_cost", BigInteger, nullable=False, server_default="0"),
)

# Worst-case cost held for a call in flight; settled with real usage or released on failure. One left behind by a
# crash is charged at its worst case by the sweeper (the call may have been billed), never silently released.
reservation = Table(
    "ai_reservation",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("decision_id", Text, nullable=False),
    Column("operation", Text, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("day_key", Text, nullable=False),
    Column("month_key", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_ai_reservation_expires_at", "expires_at"),
)

# A cost alert fires once per tenant, period and level.
alert = Table(
    "ai_alert",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("period_key", Text, nullable=False),
    Column("level", Text, nullable=False),
    Column("fired_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "period_key", "level"),
)

# AIDecisionLog: one row per request, whatever answered it. No PII: summaries are built from sanitised data.
decision_log = Table(
    "ai_decision_log",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("operation", Text, nullable=False),
    Column("decision_type", Text, nullable=False),
    Column("customer_id", Text),
    Column("model", Text),
    Column("source", Text, nullable=False),
    Column("fallback_reason", Text),
    Column("input_summary", JSONB, nullable=False),
    Column("output_summary", JSONB, nullable=False),
    Column("attempts", JSONB, nullable=False),
    Column("confidence", Float),
    Column("latency_ms", Integer, nullable=False),
    Column("input_tokens", Integer, nullable=False, server_default="0"),
    Column("output_tokens", Integer, nullable=False, server_default="0"),
    Column("cost_micros", BigInteger, nullable=False, server_default="0"),
    Column("llm_calls", Integer, nullable=False, server_default="0"),
    Column("provider_errors", Integer, nullable=False, server_default="0"),
    Column("was_used", Boolean, nullable=False),
    Column("origin", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_ai_decision_log_tenant_created", "tenant_id", "created_at"),
    Index("ix_ai_decision_log_tenant_customer", "tenant_id", "customer_id", "created_at"),
)

# Generated content, keyed by a hash of the sanitised request; the output keeps its {{placeholders}}.
content_cache = Table(
    "ai_content_cache",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("cache_key", Text, nullable=False),
    Column("operation", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("output", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "cache_key"),
    Index("ix_ai_content_cache_expires_at", "expires_at"),
)
