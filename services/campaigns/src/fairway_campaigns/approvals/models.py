"""Content approval tables: the tenant's rules, each review request, and how often a text was approved."""
from sqlalchemy import Boolean, Column, DateTime, Index, Integer, PrimaryKeyConstraint, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from fairway_campaigns.db import TENANT, metadata

approval_settings = Table(
    "approval_settings",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("settings", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(200), nullable=False),
    PrimaryKeyConstraint("tenant_id"),
)

approvals = Table(
    "content_approvals",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("id", String(40), nullable=False),
    Column("campaign_id", String(40), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("field", String(8), nullable=False),  # subject or body
    Column("variant", String(40), nullable=True),  # None: the campaign's own content
    Column("content_type", String(16), nullable=False),  # EMAIL_SUBJECT, EMAIL_BODY, SMS, PUSH, SOCIAL_POST
    Column("content_hash", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("requirement", String(16), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("gateway_flagged", Boolean, nullable=False),  # the AI gateway said requiresApproval
    Column("status", String(10), nullable=False),  # PENDING, APPROVED, REJECTED, EXPIRED, WITHDRAWN
    Column("reviewer", String(200), nullable=True),
    Column("feedback", Text, nullable=True),
    Column("edited", Boolean, nullable=False, server_default="false"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    Index("ix_content_approvals_campaign", "tenant_id", "campaign_id", "status"),
    Index("ix_content_approvals_pending", "tenant_id", "status", "created_at"),
    Index("ix_content_approvals_expiry", "expires_at", postgresql_where="status = 'PENDING'"),
)

# How often each exact text was approved by a person: FIRST_USE skips texts approved before, and every rule
# auto-approves a text after the tenant's N approved uses.
approved_texts = Table(
    "approved_texts",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("approved_uses", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "content_hash"),
)
