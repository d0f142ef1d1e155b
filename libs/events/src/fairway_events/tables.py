"""The event tables every service owns: its outbox (also its audit log of events) and its inbox."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

OUTBOX = "event_outbox"
INBOX = "event_inbox"
# Committed outbox inserts wake the relay through this channel, so an idle relay need not poll.
OUTBOX_CHANNEL = "fairway_outbox"
OUTBOX_TRIGGER = f"{OUTBOX}_notify"


def event_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Define the outbox and inbox in a service's metadata (its migration creates them)."""
    outbox = Table(
        OUTBOX,
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("tenant_id", String(64), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("version", Integer, nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        # The wire bytes as text: the relay sends them as they are, auditors can cast to jsonb.
        Column("body", Text, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Index(f"ix_{OUTBOX}_unpublished", "id", postgresql_where=text("published_at IS NULL")),
        Index(f"ix_{OUTBOX}_tenant_type", "tenant_id", "event_type"),
    )
    inbox = Table(
        INBOX,
        metadata,
        Column("consumer", String(100), nullable=False),
        Column("event_id", String(200), nullable=False),
        Column("tenant_id", String(64), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id", name=f"pk_{INBOX}"),
    )
    return outbox, inbox


def create_event_tables_op() -> None:
    """Used by each service's first Alembic migration."""
    from alembic import op

    md = MetaData()
    outbox, inbox = event_tables(md)
    md.create_all(op.get_bind(), tables=[outbox, inbox])


# A statement-level trigger: every transaction that inserts outbox rows notifies OUTBOX_CHANNEL when it commits
# (PostgreSQL folds a transaction's identical notifications into one), whichever code wrote the rows.
OUTBOX_NOTIFY_DDL = (
    "CREATE OR REPLACE FUNCTION fairway_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN PERFORM pg_notify('{OUTBOX_CHANNEL}', ''); RETURN NULL; END $$",
    f"CREATE TRIGGER {OUTBOX_TRIGGER} AFTER INSERT ON {OUTBOX} FOR EACH STATEMENT EXECUTE FUNCTION fairway_outbox_notify()",
)


def create_outbox_notify_op() -> None:
    """Used by each service's migration that gives its outbox the notify trigger."""
    from alembic import op

    for ddl in OUTBOX_NOTIFY_DDL:
        op.execute(ddl)


def drop_outbox_notify_op() -> None:
    from alembic import op

    op.execute(f"DROP TRIGGER IF EXISTS {OUTBOX_TRIGGER} ON {OUTBOX}")
