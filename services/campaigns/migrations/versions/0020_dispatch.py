"""dispatch: read models (profiles, segment members, send-time profiles), tenant settings, contents and the ledger

Revision ID: 0020
Revises: 0011
"""
from alembic import op

revision = "0020"
down_revision = "0011"
branch_labels = None
depends_on = None

DDL = [
    # Read models, built from crm.identity, crm.segmentation and crm.scoring only.
    """CREATE TABLE dispatch_profiles (
        tenant_id varchar(64) NOT NULL, profile_id varchar(64) NOT NULL,
        status varchar(16) NOT NULL, erased boolean NOT NULL DEFAULT false,
        email text, phone_number text, messaging_contact_id text,
        email_opt_in boolean, sms_opt_in boolean, push_opt_in boolean, ai_consent boolean,
        time_zone text, updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_dispatch_profiles PRIMARY KEY (tenant_id, profile_id))""",
    "CREATE INDEX ix_dispatch_profiles_tenant_tz ON dispatch_profiles (tenant_id, time_zone)",
    """CREATE TABLE dispatch_segment_members (
        tenant_id varchar(64) NOT NULL, segment_id varchar(64) NOT NULL, profile_id varchar(64) NOT NULL,
        entered_at timestamptz NOT NULL,
        CONSTRAINT pk_dispatch_segment_members PRIMARY KEY (tenant_id, segment_id, profile_id))""",
    "CREATE INDEX ix_dispatch_segment_members_profile ON dispatch_segment_members (tenant_id, profile_id)",
    """CREATE TABLE dispatch_send_times (
        tenant_id varchar(64) NOT NULL, profile_id varchar(64) NOT NULL,
        hourly double precision[] NOT NULL, time_zone text NOT NULL, confidence double precision NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT pk_dispatch_send_times PRIMARY KEY (tenant_id, profile_id))""",
    # Per-tenant policy; absent rows mean the service defaults.
    """CREATE TABLE dispatch_settings (
        tenant_id varchar(64) NOT NULL, settings jsonb NOT NULL, updated_at timestamptz NOT NULL,
        updated_by text, CONSTRAINT pk_dispatch_settings PRIMARY KEY (tenant_id))""",
    # One row per distinct content: a campaign's 100,000 ledger rows share one.
    """CREATE TABLE dispatch_contents (
        tenant_id varchar(64) NOT NULL, content_id varchar(64) NOT NULL, content jsonb NOT NULL,
        CONSTRAINT pk_dispatch_contents PRIMARY KEY (tenant_id, content_id))""",
    # Every request and its outcome; the request id (deterministic) is unique, so no message is requested twice.
    """CREATE TABLE dispatch_ledger (
        request_id varchar(64) NOT NULL, tenant_id varchar(64) NOT NULL, profile_id varchar(64) NOT NULL,
        channel varchar(8) NOT NULL, source_kind varchar(16) NOT NULL, source_id varchar(64) NOT NULL,
        run_id varchar(64), step_id varchar(64), source_version integer, content_id varchar(64) NOT NULL,
        transactional boolean NOT NULL, ai_personalised boolean NOT NULL, notify boolean NOT NULL,
        due_at timestamptz NOT NULL, status varchar(16) NOT NULL, reason text, send_at timestamptz,
        local_date date, batch_id uuid NOT NULL, submitted_at timestamptz NOT NULL, decided_at timestamptz NOT NULL,
        CONSTRAINT pk_dispatch_ledger PRIMARY KEY (request_id))""",
    "CREATE INDEX ix_dispatch_ledger_batch ON dispatch_ledger (batch_id)",
    "CREATE INDEX ix_dispatch_ledger_source ON dispatch_ledger (tenant_id, source_kind, source_id)",
    "CREATE INDEX ix_dispatch_ledger_held ON dispatch_ledger (tenant_id, send_at) WHERE status = 'HELD'",
    # Frequency caps count what was requested per recipient, channel and local day.
    "CREATE INDEX ix_dispatch_ledger_caps ON dispatch_ledger (tenant_id, profile_id, channel, local_date) "
    "WHERE status = 'REQUESTED' AND NOT transactional",
]


def upgrade() -> None:
    for ddl in DDL:
        op.execute(ddl)


def downgrade() -> None:
    for table in ("dispatch_ledger", "dispatch_contents", "dispatch_settings", "dispatch_send_times",
                  "dispatch_segment_members", "dispatch_profiles"):
        op.execute(f"DROP TABLE {table}")
