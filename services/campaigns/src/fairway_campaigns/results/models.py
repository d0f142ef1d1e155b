"""Results tables: one row per message a campaign asked dispatch for (its outcome, then what Messaging and the
recipient did with it), and the identity keys that tie upstream bookings and purchases to recipients."""
from sqlalchemy import Column, DateTime, Index, Numeric, PrimaryKeyConstraint, String, Table

from fairway_campaigns.db import PROFILE, TENANT, metadata

messages = Table(
    "campaign_messages",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("request_id", String(40), nullable=False),  # dispatch_request_id(...): Messaging's sendRequestId
    Column("campaign_id", String(40), nullable=False),
    Column("profile_id", PROFILE, nullable=False),
    Column("channel", String(8), nullable=False),
    Column("variant", String(40), nullable=True),
    Column("wave", String(8), nullable=False),  # ALL, TEST, REST, or PROOF (test-send)
    Column("outcome", String(16), nullable=False),  # dispatch's outcome (REQUESTED, HELD, NO_CONSENT, ...)
    Column("reason", String(200), nullable=True),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("opened_at", DateTime(timezone=True), nullable=True),
    Column("clicked_at", DateTime(timezone=True), nullable=True),
    Column("bounced_at", DateTime(timezone=True), nullable=True),
    Column("unsubscribed_at", DateTime(timezone=True), nullable=True),
    Column("converted_at", DateTime(timezone=True), nullable=True),
    Column("revenue", Numeric(14, 2), nullable=False, server_default="0"),
    PrimaryKeyConstraint("tenant_id", "request_id"),
    Index("ix_campaign_messages_campaign", "tenant_id", "campaign_id", "variant"),
    Index("ix_campaign_messages_profile", "tenant_id", "profile_id", "submitted_at"),
)

# key -> profile, from crm.identity: upstream bookings and purchases name people by their keys, not profile ids.
profile_keys = Table(
    "campaign_profile_keys",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("key_type", String(32), nullable=False),
    Column("key_value", String(320), nullable=False),
    Column("profile_id", PROFILE, nullable=False),
    PrimaryKeyConstraint("tenant_id", "key_type", "key_value"),
    Index("ix_campaign_profile_keys_profile", "tenant_id", "profile_id"),
)

# Upstream conversions (bookings, purchases) seen once each, so a redelivered event never counts twice.
conversions = Table(
    "campaign_conversions",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("request_id", String(40), nullable=False),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "event_id", "request_id"),
)
