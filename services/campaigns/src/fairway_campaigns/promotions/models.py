"""Promotion tables (built by migration 0030): the tenant's settings, each promotion with its event's details,
its schedule (one row per step), the competition entries TeeTime reports, and the social posts it caused."""
from sqlalchemy import Boolean, Column, DateTime, Integer, PrimaryKeyConstraint, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from fairway_campaigns.db import PROFILE, TENANT, metadata

promotion_settings = Table(
    "promotion_settings",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("settings", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(200), nullable=False),
    PrimaryKeyConstraint("tenant_id"),
)

promotions = Table(
    "promotions",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("id", String(40), nullable=False),
    Column("competition_id", String(100), nullable=True),  # TeeTime's, when it promotes a competition
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=True),
    Column("format", String(100), nullable=True),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("entry_deadline", DateTime(timezone=True), nullable=True),
    Column("capacity", Integer, nullable=True),
    Column("link", Text, nullable=True),
    Column("channels", JSONB, nullable=False),
    Column("segment_id", String(64), nullable=False),
    Column("reminder_days", JSONB, nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("attribution_days", Integer, nullable=False),
    # PENDING_APPROVAL, ACTIVE, STOPPED (full or deadline: reminders stopped), CANCELLED
    Column("status", String(20), nullable=False),
    Column("stop_reason", String(20), nullable=True),
    Column("automatic", Boolean, nullable=False),
    Column("content", JSONB, nullable=True),  # message kind -> {subject, body}; written before the first send
    Column("content_source", String(100), nullable=True),  # the AI gateway's decision id, or "template"
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", String(200), nullable=True),
    Column("approved_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
)

steps = Table(
    "promotion_steps",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("promotion_id", String(40), nullable=False),
    Column("step", String(24), nullable=False),  # ANNOUNCE, REMINDER_7, ENTRANT_REMINDER, DEADLINE, ...
    Column("kind", String(20), nullable=False),
    Column("days_before", Integer, nullable=True),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("window_end", DateTime(timezone=True), nullable=True),
    Column("status", String(10), nullable=False),  # PENDING, DONE, SKIPPED, STOPPED
    Column("reason", String(200), nullable=True),
    # The checkpoint of a step's batches: recipients (in profile id order) up to it were handed to dispatch.
    Column("cursor", String(64), nullable=True),
    Column("recipients", Integer, nullable=False, server_default="0"),
    Column("requested", Integer, nullable=False, server_default="0"),
    Column("done_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("tenant_id", "promotion_id", "step"),
)

entries = Table(
    "promotion_entries",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("competition_id", String(100), nullable=False),
    Column("entry_id", String(100), nullable=False),
    Column("keys", JSONB, nullable=False),  # the player's identity keys, [[type, value], ...]
    Column("profile_id", PROFILE, nullable=True),  # resolved from the keys (crm.identity's links)
    Column("entered_at", DateTime(timezone=True), nullable=False),
    Column("cancelled_at", DateTime(timezone=True), nullable=True),
    Column("capacity", Integer, nullable=True),  # as TeeTime reported it with the entry
    PrimaryKeyConstraint("tenant_id", "competition_id", "entry_id"),
)

posts = Table(
    "promotion_posts",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("promotion_id", String(40), nullable=False),
    Column("post_id", String(64), nullable=False),
    Column("connection_id", String(64), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("status", String(10), nullable=False),  # PUBLISHED, FAILED
    Column("error", Text, nullable=True),
    Column("likes", Integer, nullable=False, server_default="0"),
    Column("comments", Integer, nullable=False, server_default="0"),
    Column("shares", Integer, nullable=False, server_default="0"),
    Column("impressions", Integer, nullable=False, server_default="0"),
    Column("clicks", Integer, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "promotion_id", "post_id", "connection_id"),
)
