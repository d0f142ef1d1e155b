"""The social service's tables (migrations/ builds them; these definitions are what the repositories query)."""
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from fairway_chassis import make_metadata
from fairway_events import event_tables

metadata = make_metadata()
outbox_table, inbox_table = event_tables(metadata)
TS = DateTime(timezone=True)

connections = Table(
    "connections", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("account_name", String(300), nullable=False),
    Column("handle", String(100)),
    Column("status", String(20), nullable=False),
    Column("status_reason", Text),
    Column("scopes", JSONB, nullable=False),
    Column("access_token", Text),
    Column("refresh_token", Text),
    Column("expires_at", TS),
    Column("refreshed_at", TS),
    Column("connected_by", String(200), nullable=False),
    Column("connected_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

oauth_states = Table(
    "oauth_states", metadata,
    Column("nonce", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("user_id", String(200), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("verifier", Text),
    Column("expires_at", TS, nullable=False),
    Column("used_at", TS),
)

posts = Table(
    "posts", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("link", String(2000)),
    Column("hashtags", JSONB, nullable=False),
    Column("campaign_id", String(100)),
    Column("promotion_id", String(100)),
    Column("request_id", String(200)),
    Column("status", String(20), nullable=False),
    Column("scheduled_at", TS),
    Column("created_by", String(200), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

post_media = Table(
    "post_media", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("post_id", UUID(as_uuid=True), ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
    Column("position", SmallInteger, nullable=False),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(60), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary),
    Column("source_url", String(2000)),
    Column("created_at", TS, nullable=False),
)

post_targets = Table(
    "post_targets", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("post_id", UUID(as_uuid=True), ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
    Column("connection_id", UUID(as_uuid=True), ForeignKey("connections.id"), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("status", String(20), nullable=False),
    Column("wait_reason", Text),
    Column("not_before", TS),
    Column("attempts", Integer, nullable=False),
    Column("job_id", BigInteger),
    Column("attempt_started_at", TS),
    Column("platform_post_id", String(100)),
    Column("url", String(500)),
    Column("error", Text),
    Column("published_at", TS),
    Column("likes", Integer),
    Column("comments", Integer),
    Column("shares", Integer),
    Column("impressions", Integer),
    Column("clicks", Integer),
    Column("engagement_at", TS),
    Column("updated_at", TS, nullable=False),
)

calendar_items = Table(
    "calendar_items", metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("kind", String(30), primary_key=True),
    Column("source_id", String(200), primary_key=True),
    Column("title", String(500), nullable=False),
    Column("channel", String(30), nullable=False),
    Column("status", String(30), nullable=False),
    Column("starts_at", TS, nullable=False),
    Column("details", JSONB, nullable=False),
    Column("updated_at", TS, nullable=False),
)

calendar_feeds = Table(
    "calendar_feeds", metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
)
