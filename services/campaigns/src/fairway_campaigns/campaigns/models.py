"""Campaign tables: the campaign itself (definition as JSON documents validated by the API schemas, state as
columns the fan-out locks), and its audience snapshot."""
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from fairway_campaigns.db import PROFILE, TENANT, metadata

campaigns = Table(
    "campaigns",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("id", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("goal", Text, nullable=True),
    Column("channels", JSONB, nullable=False),
    Column("target_segment_id", String(64), nullable=True),
    Column("exclusion_segment_ids", JSONB, nullable=False),
    Column("content", JSONB, nullable=False),  # channel -> ChannelContent
    Column("time_zone", String(64), nullable=False),
    Column("schedule", JSONB, nullable=False),
    Column("ab_test", JSONB, nullable=True),
    Column("state", String(20), nullable=False),
    # Where a PAUSED campaign resumes: SCHEDULED (nothing sent yet) or SENDING.
    Column("resume_state", String(20), nullable=True),
    # SENDING sub-phase: TEST (A/B test wave), WAITING (test running), REST (winner to the rest), ALL (no test).
    Column("phase", String(10), nullable=True),
    Column("starts_at", DateTime(timezone=True), nullable=True),
    Column("audience_size", Integer, nullable=True),  # set when the audience is snapshotted
    Column("test_size", Integer, nullable=True),
    # The fan-out checkpoint: recipients at positions below it were handed to dispatch (committed with its rows).
    Column("cursor", Integer, nullable=False, server_default="0"),
    Column("winner", String(40), nullable=True),
    Column("decision", JSONB, nullable=True),  # the A/B test's decision and statistics
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("revision", Integer, nullable=False, server_default="1"),
    PrimaryKeyConstraint("tenant_id", "id"),
    # Cursor pagination: newest first.
    Index("ix_campaigns_tenant_created", "tenant_id", "created_at", "id"),
)

# The audience as it was when sending started, in a stable (hashed, so A/B assignment is random) order.
recipients = Table(
    "campaign_recipients",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("campaign_id", String(40), nullable=False),
    Column("position", Integer, nullable=False),
    Column("profile_id", PROFILE, nullable=False),
    Column("variant", String(40), nullable=True),  # set for the A/B test wave, and for the rest by the winner
    PrimaryKeyConstraint("tenant_id", "campaign_id", "position"),
    Index("ix_campaign_recipients_profile", "tenant_id", "campaign_id", "profile_id", unique=True),
)

