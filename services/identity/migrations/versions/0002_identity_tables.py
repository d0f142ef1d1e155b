"""identity tables: profiles, keys, blocked values, sightings, event log, merges, merge candidates

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

U = UUID(as_uuid=False)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "profile",
        sa.Column("id", U, primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("merged_into", U, nullable=True),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False, server_default="SUBSCRIBER"),
        sa.Column("tags", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("attributes", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("consent", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("identities", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("state", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("distinct_from", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("erased_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_profile"),
    )
    op.create_index("ix_profile_tenant_id_id", "profile", ["tenant_id", "id"])
    op.create_index("ix_profile_merged_into", "profile", ["merged_into"],
                    postgresql_where=sa.text("merged_into IS NOT NULL"))

    op.create_table(
        "identity_key",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("key_type", sa.String(32), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("profile_id", U, nullable=False),
        sa.Column("source_event_id", sa.String(200), nullable=True),
        sa.Column("linked_at", TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("tenant_id", "key_type", "value", name="pk_identity_key"),
    )
    op.create_index("ix_identity_key_profile_id", "identity_key", ["profile_id"])

    op.create_table(
        "blocked_value",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("key_type", sa.String(32), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("blocked_at", TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("tenant_id", "key_type", "value", name="pk_blocked_value"),
    )

    op.create_table(
        "key_sighting",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("key_type", sa.String(32), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("profile_id", U, nullable=False),
        sa.Column("seen_at", TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("tenant_id", "key_type", "value", "profile_id", name="pk_key_sighting"),
    )
    op.create_index("ix_key_sighting_profile_id", "key_sighting", ["profile_id"])

    op.create_table(
        "event_log",
        sa.Column("id", sa.BigInteger, sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("applied_at", TS, nullable=False, server_default=sa.text("clock_timestamp()")),
        sa.Column("profile_id", U, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", JSONB, nullable=True),
        sa.Column("body", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_event_log"),
        sa.UniqueConstraint("tenant_id", "event_id", name="uq_event_log_tenant_id_event_id"),
    )
    op.create_index("ix_event_log_profile_id_id", "event_log", ["profile_id", "id"])
    op.create_index("ix_event_log_conflicts", "event_log", ["tenant_id"],
                    postgresql_where=sa.text("detail ? 'conflicts'"))

    op.create_table(
        "merge",
        sa.Column("id", U, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("winner_id", U, nullable=False),
        sa.Column("loser_id", U, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("evidence", JSONB, nullable=True),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("undone_at", TS, nullable=True),
        sa.Column("undone_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_merge"),
    )
    op.create_index("ix_merge_tenant_id_winner_id", "merge", ["tenant_id", "winner_id"])
    op.create_index("ix_merge_tenant_id_loser_id", "merge", ["tenant_id", "loser_id"])

    op.create_table(
        "merge_candidate",
        sa.Column("id", U, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("profile_a", U, nullable=False),
        sa.Column("profile_b", U, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("evidence", JSONB, nullable=False),
        sa.Column("conflict_keys", JSONB, nullable=False),
        sa.Column("seen_count", sa.Integer, nullable=False, server_default="1"),
        sa.Column("source_event_id", sa.String(200), nullable=True),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.Column("resolution", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_merge_candidate"),
    )
    op.create_index("uq_merge_candidate_open_pair", "merge_candidate", ["tenant_id", "profile_a", "profile_b"],
                    unique=True, postgresql_where=sa.text("status = 'OPEN'"))
    op.create_index("ix_merge_candidate_tenant_id_status_id", "merge_candidate", ["tenant_id", "status", "id"])


def downgrade() -> None:
    for t in ("merge_candidate", "merge", "event_log", "key_sighting", "blocked_value", "identity_key", "profile"):
        op.drop_table(t)
