"""journeys, versions, runs, timers, waits, sends, read model

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "date_trigger_days",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("journey_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("swept_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entered", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "journey_id", "day", name=op.f("pk_date_trigger_days")),
    )
    op.create_table(
        "journey_versions",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("journey_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "journey_id", "version", name=op.f("pk_journey_versions")),
    )
    op.create_table(
        "journeys",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("goal_text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("active_version", sa.Integer(), nullable=True),
        sa.Column("latest_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("origin", sa.String(length=16), server_default=sa.text("'USER'"), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_journeys")),
    )
    op.create_index("ix_journeys_tenant_status", "journeys", ["tenant_id", "status"], unique=False)
    op.create_table(
        "member_keys",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("key_type", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("profile_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key_type", "value", name=op.f("pk_member_keys")),
    )
    op.create_index("ix_member_keys_profile", "member_keys", ["tenant_id", "profile_id"], unique=False)
    op.create_table(
        "members",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("profile_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column(
            "fields",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("membership_expiry", sa.Date(), nullable=True),
        sa.Column("member_since", sa.Date(), nullable=True),
        sa.Column("time_zone", sa.Text(), nullable=True),
        sa.Column("counters_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "profile_id", name=op.f("pk_members")),
    )
    op.create_table(
        "run_steps",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("journey_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("step_type", sa.String(length=16), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "seq", name=op.f("pk_run_steps")),
    )
    op.create_index(
        "ix_run_steps_journey", "run_steps", ["tenant_id", "journey_id", "version", "step_id"], unique=False
    )
    op.create_table(
        "run_timers",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_timers")),
    )
    op.create_index("ix_run_timers_due_at", "run_timers", ["due_at"], unique=False)
    op.create_index("ix_run_timers_tenant_due", "run_timers", ["tenant_id", "due_at"], unique=False)
    op.create_table(
        "run_waits",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("match_key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_waits")),
    )
    op.create_index("ix_run_waits_match", "run_waits", ["tenant_id", "event_type", "match_key"], unique=False)
    op.create_table(
        "runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("journey_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.String(length=200), nullable=False),
        sa.Column("entry_key", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Text(), nullable=True),
        sa.Column("step_entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column(
            "context",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint("tenant_id", "journey_id", "profile_id", "entry_key", name="uq_runs_entry"),
    )
    op.create_index(
        "ix_runs_tenant_journey_status", "runs", ["tenant_id", "journey_id", "status"], unique=False
    )
    op.create_index(
        "ix_runs_tenant_profile_status", "runs", ["tenant_id", "profile_id", "status"], unique=False
    )
    op.create_table(
        "segment_members",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("segment_id", sa.String(length=200), nullable=False),
        sa.Column("profile_id", sa.String(length=200), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "segment_id", "profile_id", name=op.f("pk_segment_members")),
    )
    op.create_index(
        "ix_segment_members_profile", "segment_members", ["tenant_id", "profile_id"], unique=False
    )
    op.create_table(
        "sends",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("journey_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.Text(), nullable=True),
        sa.Column("profile_id", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_sends")),
    )
    op.create_index(
        "ix_sends_journey", "sends", ["tenant_id", "journey_id", "version", "step_id"], unique=False
    )
    op.create_table(
        "split_winners",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("journey_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("branch", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("evidence", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "journey_id", "version", "step_id", name=op.f("pk_split_winners")
        ),
    )


def downgrade() -> None:
    op.drop_table("split_winners")
    op.drop_index("ix_sends_journey", table_name="sends")
    op.drop_table("sends")
    op.drop_index("ix_segment_members_profile", table_name="segment_members")
    op.drop_table("segment_members")
    op.drop_index("ix_runs_tenant_profile_status", table_name="runs")
    op.drop_index("ix_runs_tenant_journey_status", table_name="runs")
    op.drop_table("runs")
    op.drop_index("ix_run_waits_match", table_name="run_waits")
    op.drop_table("run_waits")
    op.drop_index("ix_run_timers_tenant_due", table_name="run_timers")
    op.drop_index("ix_run_timers_due_at", table_name="run_timers")
    op.drop_table("run_timers")
    op.drop_index("ix_run_steps_journey", table_name="run_steps")
    op.drop_table("run_steps")
    op.drop_table("members")
    op.drop_index("ix_member_keys_profile", table_name="member_keys")
    op.drop_table("member_keys")
    op.drop_index("ix_journeys_tenant_status", table_name="journeys")
    op.drop_table("journeys")
    op.drop_table("journey_versions")
    op.drop_table("date_trigger_days")
