"""tenant AI config, budget, reservations, alerts, decision log, content cache

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ai_tenant_config",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("doc", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_ai_tenant_config"),
    )
    op.create_table(
        "ai_budget",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("day_key", sa.Text, nullable=False, server_default=""),
        sa.Column("day_cost", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("day_calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("hour_key", sa.Text, nullable=False, server_default=""),
        sa.Column("hour_calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("month_key", sa.Text, nullable=False, server_default=""),
        sa.Column("month_cost", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_ai_budget"),
    )
    op.create_table(
        "ai_reservation",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("decision_id", sa.Text, nullable=False),
        sa.Column("operation", sa.Text, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("day_key", sa.Text, nullable=False),
        sa.Column("month_key", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ai_reservation"),
    )
    op.create_index("ix_ai_reservation_expires_at", "ai_reservation", ["expires_at"])
    op.create_table(
        "ai_alert",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("period_key", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("tenant_id", "period_key", "level", name="pk_ai_alert"),
    )
    op.create_table(
        "ai_decision_log",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("operation", sa.Text, nullable=False),
        sa.Column("decision_type", sa.Text, nullable=False),
        sa.Column("customer_id", sa.Text),
        sa.Column("model", sa.Text),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("fallback_reason", sa.Text),
        sa.Column("input_summary", JSONB, nullable=False),
        sa.Column("output_summary", JSONB, nullable=False),
        sa.Column("attempts", JSONB, nullable=False),
        sa.Column("confidence", sa.Float),
        sa.Column("latency_ms", sa.Integer, nullable=False),
        sa.Column("input_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cost_micros", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("llm_calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("provider_errors", sa.Integer, nullable=False, server_default="0"),
        sa.Column("was_used", sa.Boolean, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_ai_decision_log"),
    )
    op.create_index("ix_ai_decision_log_tenant_created", "ai_decision_log", ["tenant_id", "created_at"])
    op.create_index("ix_ai_decision_log_tenant_customer", "ai_decision_log",
                    ["tenant_id", "customer_id", "created_at"])
    op.create_table(
        "ai_content_cache",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("cache_key", sa.Text, nullable=False),
        sa.Column("operation", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("output", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "cache_key", name="pk_ai_content_cache"),
    )
    op.create_index("ix_ai_content_cache_expires_at", "ai_content_cache", ["expires_at"])


def downgrade() -> None:
    for name in ("ai_content_cache", "ai_decision_log", "ai_alert", "ai_reservation", "ai_budget",
                 "ai_tenant_config"):
        op.drop_table(name)
