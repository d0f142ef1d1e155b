"""The identity service's tables all hang off this metadata; migrations/ builds them.

No foreign keys on the hot tables (identity_key, event_log): the consumer writes them in bulk and keeps them
consistent itself inside one transaction per batch; a foreign key would cost a lookup per row.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from fairway_chassis import make_metadata
from fairway_events import event_tables

metadata = make_metadata()
outbox_table, inbox_table = event_tables(metadata)

# One row per profile, tombstones and merged profiles included. `state` is the fold of the profile's events
# (observations with source and time); `attributes`, `consent`, `tags`, `identities` are its effective values,
# kept beside it for filters and reads.
profile = Table(
    "profile",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # ACTIVE, INACTIVE, MERGED, DELETED
    Column("merged_into", UUID(as_uuid=False), nullable=True),
    Column("lifecycle_stage", String(16), nullable=False, server_default="SUBSCRIBER"),
    Column("tags", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("attributes", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("consent", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("identities", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("state", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("distinct_from", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("revision", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("erased_at", DateTime(timezone=True), nullable=True),
    Index("ix_profile_tenant_id_id", "tenant_id", "id"),
    Index("ix_profile_merged_into", "merged_into", postgresql_where=text("merged_into IS NOT NULL")),
)

# Which profile owns each normalised key: the unique constraint that makes parallel duplicates one person.
identity_key = Table(
    "identity_key",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("key_type", String(32), nullable=False),
    Column("value", String(320), nullable=False),
    Column("profile_id", UUID(as_uuid=False), nullable=False),
    Column("source_event_id", String(200), nullable=True),
    Column("linked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "key_type", "value", name="pk_identity_key"),
    Index("ix_identity_key_profile_id", "profile_id"),
)

blocked_value = Table(
    "blocked_value",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("key_type", String(32), nullable=False),
    Column("value", String(320), nullable=False),
    Column("reason", Text, nullable=False),
    Column("blocked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "key_type", "value", name="pk_blocked_value"),
)

# Profiles a key value was presented for in conflicting events: enough of them and the value is blocked.
key_sighting = Table(
    "key_sighting",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("key_type", String(32), nullable=False),
    Column("value", String(320), nullable=False),
    Column("profile_id", UUID(as_uuid=False), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "key_type", "value", "profile_id", name="pk_key_sighting"),
    Index("ix_key_sighting_profile_id", "profile_id"),
)

# Every event identity applied, in order: the sync log (event id, status) and each profile's identity event
# log (body + resolution detail), which unmerge replays. Staff edits are logged here too (kind='staff').
event_log = Table(
    "event_log",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("kind", String(16), nullable=False),  # upstream | staff
    Column("source", String(32), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False, server_default=text("clock_timestamp()")),
    Column("profile_id", UUID(as_uuid=False), nullable=True),
    Column("status", String(16), nullable=False),  # APPLIED | SKIPPED
    Column("detail", JSONB, nullable=True),  # the resolution log entry; nulled on erasure
    Column("body", Text, nullable=True),  # the event as received; nulled on erasure
    UniqueConstraint("tenant_id", "event_id", name="uq_event_log_tenant_id_event_id"),
    Index("ix_event_log_profile_id_id", "profile_id", "id"),
    Index("ix_event_log_conflicts", "tenant_id", postgresql_where=text("detail ? 'conflicts'")),
)

merge = Table(
    "merge",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("winner_id", UUID(as_uuid=False), nullable=False),
    Column("loser_id", UUID(as_uuid=False), nullable=False),
    # event_log ids <= seq tagged with the winner happened before the merge; later ones may be re-resolved.
    Column("seq", BigInteger, nullable=False),
    Column("reason", Text, nullable=True),
    Column("evidence", JSONB, nullable=True),
    Column("actor", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("undone_at", DateTime(timezone=True), nullable=True),
    Column("undone_by", String(200), nullable=True),
    Index("ix_merge_tenant_id_winner_id", "tenant_id", "winner_id"),
    Index("ix_merge_tenant_id_loser_id", "tenant_id", "loser_id"),
)

merge_candidate = Table(
    "merge_candidate",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("profile_a", UUID(as_uuid=False), nullable=False),  # profile_a < profile_b
    Column("profile_b", UUID(as_uuid=False), nullable=False),
    Column("status", String(16), nullable=False),  # OPEN | ACCEPTED | DISMISSED | SUPERSEDED
    Column("evidence", JSONB, nullable=False),
    Column("conflict_keys", JSONB, nullable=False),  # ["email:a@x.com", ...]
    Column("seen_count", Integer, nullable=False, server_default="1"),
    Column("source_event_id", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("resolved_by", String(200), nullable=True),
    Column("resolution", Text, nullable=True),
    Index(
        "uq_merge_candidate_open_pair",
        "tenant_id",
        "profile_a",
        "profile_b",
        unique=True,
        postgresql_where=text("status = 'OPEN'"),
    ),
    Index("ix_merge_candidate_tenant_id_status_id", "tenant_id", "status", "id"),
)
