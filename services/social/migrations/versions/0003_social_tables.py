"""connections, OAuth states, posts with their media and per-connection targets, calendar items and feeds

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("account_name", sa.String(300), nullable=False),
        sa.Column("handle", sa.String(100), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text, nullable=True),
        sa.Column("scopes", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("access_token", sa.Text, nullable=True),  # ciphertext (fairway_social.crypto)
        sa.Column("refresh_token", sa.Text, nullable=True),  # ciphertext
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("refreshed_at", TS, nullable=True),
        sa.Column("connected_by", sa.String(200), nullable=False),
        sa.Column("connected_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "platform", "account_id", name="uq_connections_tenant_id_platform_account_id"),
    )
    op.create_index("ix_connections_tenant", "connections", ["tenant_id", "status"])

    op.create_table(
        "oauth_states",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("verifier", sa.Text, nullable=True),  # PKCE verifier (X), ciphertext
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )

    op.create_table(
        "posts",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("link", sa.String(2000), nullable=True),
        sa.Column("hashtags", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("campaign_id", sa.String(100), nullable=True),
        sa.Column("promotion_id", sa.String(100), nullable=True),
        sa.Column("request_id", sa.String(200), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("scheduled_at", TS, nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "request_id", name="uq_posts_tenant_id_request_id"),
    )
    op.create_index("ix_posts_schedule", "posts", ["tenant_id", "scheduled_at"])

    op.create_table(
        "post_media",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("post_id", UUID(as_uuid=True), sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.SmallInteger, nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(60), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=True),  # None: fetched from source_url when published
        sa.Column("source_url", sa.String(2000), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_post_media_post", "post_media", ["tenant_id", "post_id", "position"])

    # One row per post and connection: the unit that is published exactly once. Its id is a UUIDv5 of the pair,
    # and the pair is unique, so no path can make a second one.
    op.create_table(
        "post_targets",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("post_id", UUID(as_uuid=True), sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("connection_id", UUID(as_uuid=True), sa.ForeignKey("connections.id"), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("wait_reason", sa.Text, nullable=True),
        sa.Column("not_before", TS, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("job_id", sa.BigInteger, nullable=True),  # the procrastinate job that will publish it
        sa.Column("attempt_started_at", TS, nullable=True),
        sa.Column("platform_post_id", sa.String(100), nullable=True),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("likes", sa.Integer, nullable=True),
        sa.Column("comments", sa.Integer, nullable=True),
        sa.Column("shares", sa.Integer, nullable=True),
        sa.Column("impressions", sa.Integer, nullable=True),
        sa.Column("clicks", sa.Integer, nullable=True),
        sa.Column("engagement_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("post_id", "connection_id", name="uq_post_targets_post_id_connection_id"),
    )
    op.create_index("ix_post_targets_status", "post_targets", ["status", "updated_at"])
    op.create_index("ix_post_targets_connection", "post_targets", ["tenant_id", "connection_id", "status"])

    # What the calendar shows besides posts, from other services' events.
    op.create_table(
        "calendar_items",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),  # CAMPAIGN_SEND, COMPETITION
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "kind", "source_id", name="pk_calendar_items"),
    )
    op.create_index("ix_calendar_items_when", "calendar_items", ["tenant_id", "starts_at"])

    op.create_table(
        "calendar_feeds",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    for t in ("calendar_feeds", "calendar_items", "post_targets", "post_media", "posts", "oauth_states",
              "connections"):
        op.drop_table(t)
