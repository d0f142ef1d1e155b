"""promotions: per-tenant settings, promotions, their schedule, entries and social posts

Revision ID: 0030
Revises: 0020
"""
from alembic import op

revision = "0030"
down_revision = "0020"
branch_labels = None
depends_on = None

DDL = [
    """CREATE TABLE promotion_settings (
        tenant_id varchar(64) NOT NULL, settings jsonb NOT NULL, updated_at timestamptz NOT NULL,
        updated_by varchar(200) NOT NULL,
        CONSTRAINT pk_promotion_settings PRIMARY KEY (tenant_id))""",
    """CREATE TABLE promotions (
        tenant_id varchar(64) NOT NULL, id varchar(40) NOT NULL, competition_id varchar(100),
        name varchar(200) NOT NULL, description text, format varchar(100), starts_at timestamptz NOT NULL,
        entry_deadline timestamptz, capacity integer, link text,
        channels jsonb NOT NULL, segment_id varchar(64) NOT NULL, reminder_days jsonb NOT NULL,
        time_zone varchar(64) NOT NULL, attribution_days integer NOT NULL,
        status varchar(20) NOT NULL, stop_reason varchar(20), automatic boolean NOT NULL,
        content jsonb, content_source varchar(100),
        created_by varchar(200) NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
        approved_by varchar(200), approved_at timestamptz,
        CONSTRAINT pk_promotions PRIMARY KEY (tenant_id, id))""",
    "CREATE INDEX ix_promotions_tenant_created ON promotions (tenant_id, created_at, id)",
    # One promotion per competition: a redelivered or repeated competition.published creates nothing new.
    """CREATE UNIQUE INDEX ux_promotions_competition ON promotions (tenant_id, competition_id)
        WHERE competition_id IS NOT NULL""",
    """CREATE TABLE promotion_steps (
        tenant_id varchar(64) NOT NULL, promotion_id varchar(40) NOT NULL, step varchar(24) NOT NULL,
        kind varchar(20) NOT NULL, days_before integer, due_at timestamptz NOT NULL, window_end timestamptz,
        status varchar(10) NOT NULL, reason varchar(200), cursor varchar(64),
        recipients integer NOT NULL DEFAULT 0, requested integer NOT NULL DEFAULT 0, done_at timestamptz,
        CONSTRAINT pk_promotion_steps PRIMARY KEY (tenant_id, promotion_id, step))""",
    """CREATE TABLE promotion_entries (
        tenant_id varchar(64) NOT NULL, competition_id varchar(100) NOT NULL, entry_id varchar(100) NOT NULL,
        keys jsonb NOT NULL, profile_id varchar(64), entered_at timestamptz NOT NULL, cancelled_at timestamptz,
        capacity integer,
        CONSTRAINT pk_promotion_entries PRIMARY KEY (tenant_id, competition_id, entry_id))""",
    "CREATE INDEX ix_promotion_entries_profile ON promotion_entries (tenant_id, competition_id, profile_id)",
    """CREATE TABLE promotion_posts (
        tenant_id varchar(64) NOT NULL, promotion_id varchar(40) NOT NULL, post_id varchar(64) NOT NULL,
        connection_id varchar(64) NOT NULL, platform varchar(16) NOT NULL, status varchar(10) NOT NULL,
        error text, likes integer NOT NULL DEFAULT 0, comments integer NOT NULL DEFAULT 0,
        shares integer NOT NULL DEFAULT 0, impressions integer NOT NULL DEFAULT 0, clicks integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL,
        CONSTRAINT pk_promotion_posts PRIMARY KEY (tenant_id, promotion_id, post_id, connection_id))""",
]


def upgrade() -> None:
    for statement in DDL:
        op.execute(statement)


def downgrade() -> None:
    for table in ("promotion_posts", "promotion_entries", "promotion_steps", "promotions", "promotion_settings"):
        op.execute(f"DROP TABLE {table}")
