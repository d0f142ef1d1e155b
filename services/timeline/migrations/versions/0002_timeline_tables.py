"""profiles, keys, activities (with their key waits), notes, counters, erased keys

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


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("profile_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("merged_into", sa.String(64), nullable=True),
        sa.Column("root_id", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.PrimaryKeyConstraint("tenant_id", "profile_id", name="pk_profiles"),
    )
    op.create_index("ix_profiles_merged_into", "profiles", ["tenant_id", "merged_into"],
                    postgresql_where=sa.text("merged_into IS NOT NULL"))
    op.create_index("ix_profiles_root", "profiles", ["tenant_id", "root_id"],
                    postgresql_where=sa.text("root_id <> profile_id"))

    op.create_table(
        "profile_keys",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("key_type", sa.String(32), nullable=False),
        sa.Column("key_value", sa.String(320), nullable=False),
        sa.Column("profile_id", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.PrimaryKeyConstraint("id", name="pk_profile_keys"),
        sa.UniqueConstraint("tenant_id", "key_type", "key_value", name="uq_profile_keys_tenant_id_key_type_key_value"),
    )
    op.create_index("ix_profile_keys_profile", "profile_keys", ["tenant_id", "profile_id"])

    op.create_table(
        "activities",
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("profile_id", sa.String(64), nullable=True),
        sa.Column("origin_profile_id", sa.String(64), nullable=True),
        sa.Column("resolved_key_id", sa.BigInteger, nullable=True),
        sa.Column("resolved_rank", sa.SmallInteger, nullable=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("source_service", sa.String(40), nullable=False),
        sa.Column("source_event_id", sa.String(200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("counts", sa.Boolean, nullable=False),
        sa.Column("visible_to", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_activities"),
        sa.UniqueConstraint("tenant_id", "source_service", "source_event_id",
                            name="uq_activities_tenant_id_source_service_source_event_id"),
    )
    # INCLUDE: the filters and the visibility check of a timeline page are answered from the index, so
    # counting a profile's 10,000 activities is an index-only scan.
    op.create_index("ix_activities_timeline", "activities",
                    ["tenant_id", "profile_id", sa.text("occurred_at DESC"), sa.text("id DESC")],
                    postgresql_include=["category", "type", "visible_to", "counts"],
                    postgresql_where=sa.text("profile_id IS NOT NULL"))
    op.create_index("ix_activities_pending", "activities", ["tenant_id", "recorded_at"],
                    postgresql_where=sa.text("profile_id IS NULL"))
    op.create_index("ix_activities_private", "activities", ["tenant_id", "profile_id", "visible_to"],
                    postgresql_where=sa.text("visible_to IS NOT NULL"))

    # Per-profile count of the activities everyone may see, maintained by statement-level triggers with
    # transition tables: one aggregate per statement (bulk inserts stay bulk), and right whatever code path
    # inserts, moves (merge, unmerge, attach), hides (private notes) or deletes (erasure) activities.
    op.create_table(
        "activity_totals",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("profile_id", sa.String(64), nullable=False),
        sa.Column("public_count", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "profile_id", name="pk_activity_totals"),
    )
    op.execute("""
        CREATE FUNCTION activity_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                INSERT INTO activity_totals AS t (tenant_id, profile_id, public_count)
                SELECT tenant_id, profile_id, -count(*) FROM old_rows
                 WHERE profile_id IS NOT NULL AND visible_to IS NULL
                 GROUP BY tenant_id, profile_id
                ON CONFLICT (tenant_id, profile_id) DO UPDATE SET public_count = t.public_count + excluded.public_count;
            END IF;
            IF TG_OP IN ('UPDATE', 'INSERT') THEN
                INSERT INTO activity_totals AS t (tenant_id, profile_id, public_count)
                SELECT tenant_id, profile_id, count(*) FROM new_rows
                 WHERE profile_id IS NOT NULL AND visible_to IS NULL
                 GROUP BY tenant_id, profile_id
                ON CONFLICT (tenant_id, profile_id) DO UPDATE SET public_count = t.public_count + excluded.public_count;
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute("""CREATE TRIGGER activity_totals_insert AFTER INSERT ON activities
                  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION activity_totals_apply()""")
    op.execute("""CREATE TRIGGER activity_totals_update AFTER UPDATE ON activities
                  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                  FOR EACH STATEMENT EXECUTE FUNCTION activity_totals_apply()""")
    op.execute("""CREATE TRIGGER activity_totals_delete AFTER DELETE ON activities
                  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION activity_totals_apply()""")

    op.create_table(
        "activity_key_waits",
        sa.Column("activity_id", UUID(as_uuid=True), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("key_type", sa.String(32), nullable=False),
        sa.Column("key_value", sa.String(320), nullable=False),
        sa.Column("rank", sa.SmallInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("activity_id", "key_type", name="pk_activity_key_waits"),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"], ondelete="CASCADE",
                                name="fk_activity_key_waits_activity_id_activities"),
    )
    op.create_index("ix_activity_key_waits_key", "activity_key_waits", ["tenant_id", "key_type", "key_value"])
    op.create_index("ix_activity_key_waits_created", "activity_key_waits", ["created_at"])

    op.create_table(
        "notes",
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("profile_id", sa.String(64), nullable=False),
        sa.Column("origin_profile_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("pinned", sa.Boolean, nullable=False),
        sa.Column("private", sa.Boolean, nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notes"),
    )
    op.create_index("ix_notes_profile", "notes", ["tenant_id", "profile_id", "created_at"])

    op.create_table(
        "profile_counters",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("profile_id", sa.String(64), nullable=False),
        sa.Column("counters", JSONB, nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_change_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "profile_id", name="pk_profile_counters"),
    )
    op.create_index("ix_profile_counters_due", "profile_counters", ["next_change_at"],
                    postgresql_where=sa.text("next_change_at IS NOT NULL"))

    op.create_table(
        "erased_keys",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key_hash", name="pk_erased_keys"),
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION activity_totals_apply() CASCADE")
    for table in ("erased_keys", "profile_counters", "notes", "activity_totals", "activity_key_waits", "activities",
                  "profile_keys", "profiles"):
        op.drop_table(table)
