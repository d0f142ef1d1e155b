"""campaigns, their audience snapshots, and their results

Revision ID: 0010
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0003"
branch_labels = None
depends_on = None

TENANT = sa.String(64)
PROFILE = sa.String(64)


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("tenant_id", TENANT, nullable=False),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("goal", sa.Text),
        sa.Column("channels", JSONB, nullable=False),
        sa.Column("target_segment_id", sa.String(64)),
        sa.Column("exclusion_segment_ids", JSONB, nullable=False),
        sa.Column("content", JSONB, nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("schedule", JSONB, nullable=False),
        sa.Column("ab_test", JSONB),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("resume_state", sa.String(20)),
        sa.Column("phase", sa.String(10)),
        _ts("starts_at"),
        sa.Column("audience_size", sa.Integer),
        sa.Column("test_size", sa.Integer),
        sa.Column("cursor", sa.Integer, nullable=False, server_default="0"),
        sa.Column("winner", sa.String(40)),
        sa.Column("decision", JSONB),
        sa.Column("created_by", sa.String(200), nullable=False),
        _ts("created_at", False),
        _ts("updated_at", False),
        _ts("started_at"),
        _ts("finished_at"),
        sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_campaigns"),
    )
    op.create_index("ix_campaigns_tenant_created", "campaigns", ["tenant_id", "created_at", "id"])
    op.create_table(
        "campaign_recipients",
        sa.Column("tenant_id", TENANT, nullable=False),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("profile_id", PROFILE, nullable=False),
        sa.Column("variant", sa.String(40)),
        sa.PrimaryKeyConstraint("tenant_id", "campaign_id", "position", name="pk_campaign_recipients"),
    )
    op.create_index("ix_campaign_recipients_profile", "campaign_recipients", ["tenant_id", "campaign_id",
                                                                              "profile_id"], unique=True)
    op.create_table(
        "campaign_messages",
        sa.Column("tenant_id", TENANT, nullable=False),
        sa.Column("request_id", sa.String(40), nullable=False),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("profile_id", PROFILE, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("variant", sa.String(40)),
        sa.Column("wave", sa.String(8), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200)),
        _ts("submitted_at", False),
        *(_ts(n) for n in ("requested_at", "sent_at", "delivered_at", "opened_at", "clicked_at", "bounced_at",
                           "unsubscribed_at", "converted_at")),
        sa.Column("revenue", sa.Numeric(14, 2), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("tenant_id", "request_id", name="pk_campaign_messages"),
    )
    op.create_index("ix_campaign_messages_campaign", "campaign_messages", ["tenant_id", "campaign_id", "variant"])
    op.create_index("ix_campaign_messages_profile", "campaign_messages", ["tenant_id", "profile_id", "submitted_at"])
    op.create_table(
        "campaign_profile_keys",
        sa.Column("tenant_id", TENANT, nullable=False),
        sa.Column("key_type", sa.String(32), nullable=False),
        sa.Column("key_value", sa.String(320), nullable=False),
        sa.Column("profile_id", PROFILE, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key_type", "key_value", name="pk_campaign_profile_keys"),
    )
    op.create_index("ix_campaign_profile_keys_profile", "campaign_profile_keys", ["tenant_id", "profile_id"])
    op.create_table(
        "campaign_conversions",
        sa.Column("tenant_id", TENANT, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(40), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        _ts("at", False),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", "request_id", name="pk_campaign_conversions"),
    )


def downgrade() -> None:
    for table in ("campaign_conversions", "campaign_profile_keys", "campaign_messages", "campaign_recipients",
                  "campaigns"):
        op.drop_table(table)
