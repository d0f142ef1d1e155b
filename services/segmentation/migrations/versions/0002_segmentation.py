"""read model, tombstones, segments, members, size history

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False, server_default=sa.text("0"))


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "profiles",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("profile_id", sa.String(200), nullable=False),
        sa.Column("status", sa.Text),
        sa.Column("lifecycle_stage", sa.Text),
        sa.Column("first_name", sa.Text),
        sa.Column("last_name", sa.Text),
        sa.Column("membership_number", sa.Text),
        sa.Column("membership_tier", sa.Text),
        sa.Column("membership_status", sa.Text),
        sa.Column("member_since", sa.Date),
        sa.Column("membership_expiry", sa.Date),
        sa.Column("handicap", sa.Double),
        sa.Column("lifetime_value", sa.BigInteger),
        sa.Column("home_club", sa.Text),
        sa.Column("email_opt_in", sa.Boolean),
        sa.Column("sms_opt_in", sa.Boolean),
        sa.Column("push_opt_in", sa.Boolean),
        sa.Column("whatsapp_opt_in", sa.Boolean),
        sa.Column("tags", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("email", sa.Text),
        sa.Column("phone_number", sa.Text),
        sa.Column("messaging_contact_id", sa.Text),
        sa.Column("emails", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("scl_member_ids", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        _count("activity_count_30d"),
        _count("activity_count_90d"),
        _count("booking_count_30d"),
        _count("booking_count_90d"),
        _count("rounds_played_30d"),
        _count("rounds_played_90d"),
        _count("email_sends_30d"),
        _count("email_opens_30d"),
        _count("email_clicks_30d"),
        sa.Column("last_activity_at", tz),
        sa.Column("last_activity_type", sa.Text),
        sa.Column("last_booking_at", tz),
        sa.Column("last_round_at", tz),
        sa.Column("last_email_open_at", tz),
        sa.Column("last_email_click_at", tz),
        sa.Column("counters_as_of", tz),
        sa.Column("engagement_score", sa.Double),
        sa.Column("churn_risk_score", sa.Double),
        sa.Column("risk_level", sa.Text),
        sa.Column("predicted_clv", sa.Double),
        sa.Column("value_segment", sa.Text),
        sa.Column("scores_as_of", tz),
        sa.Column("updated_at", tz, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("tenant_id", "profile_id", name="pk_profiles"),
    )
    op.create_index("ix_profiles_emails", "profiles", ["emails"], postgresql_using="gin")
    op.create_index("ix_profiles_scl_member_ids", "profiles", ["scl_member_ids"], postgresql_using="gin")
    op.create_index("ix_profiles_membership_number", "profiles", ["tenant_id", sa.text("lower(membership_number)")])

    op.create_table(
        "profile_tombstones",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("profile_id", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("merged_into", sa.String(200)),
        sa.Column("at", tz, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "profile_id", name="pk_profile_tombstones"),
    )

    op.create_table(
        "segments",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("segment_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("type", sa.String(10), nullable=False),
        sa.Column("criteria", JSONB),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("sync_to_messaging", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("member_count", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("time_sensitivity", sa.String(10)),
        sa.Column("last_refreshed_at", tz),
        sa.Column("time_checked_at", tz),
        sa.Column("last_synced_at", tz),
        sa.Column("created_by", sa.String(200)),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "segment_id", name="pk_segments"),
        sa.CheckConstraint("type IN ('DYNAMIC', 'STATIC')", name="ck_segments_type"),
    )
    op.create_index("uq_segments_tenant_name", "segments", ["tenant_id", sa.text("lower(name)")], unique=True)

    op.create_table(
        "segment_members",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("segment_id", sa.String(64), nullable=False),
        sa.Column("profile_id", sa.String(200), nullable=False),
        sa.Column("added_at", tz, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        # No foreign key to segments: a refresh inserts 100k rows at a time, and a per-row check locking the
        # same segment row each time costs more than the rest; the segment's deletion removes its members.
        sa.PrimaryKeyConstraint("tenant_id", "segment_id", "profile_id", name="pk_segment_members"),
    )
    op.create_index("ix_segment_members_profile", "segment_members", ["tenant_id", "profile_id"])

    op.create_table(
        "segment_size_history",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("segment_id", sa.String(64), nullable=False),
        sa.Column("at", tz, nullable=False),
        sa.Column("member_count", sa.Integer, nullable=False),
        sa.Column("entered", sa.Integer, nullable=False),
        sa.Column("exited", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "segment_id"], ["segments.tenant_id", "segments.segment_id"],
                                ondelete="CASCADE", name="fk_segment_size_history_tenant_id_segments"),
    )
    op.create_index("ix_segment_size_history_segment", "segment_size_history", ["tenant_id", "segment_id", "at"])


def downgrade() -> None:
    for t in ("segment_size_history", "segment_members", "segments", "profile_tombstones", "profiles"):
        op.drop_table(t)
