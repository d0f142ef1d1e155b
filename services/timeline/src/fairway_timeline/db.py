"""The timeline service's tables all hang off this metadata; migrations/ builds them (0002 by hand)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from fairway_chassis import make_metadata
from fairway_events import event_tables

metadata = make_metadata()
outbox_table, inbox_table = event_tables(metadata)

TENANT = String(64)
PROFILE = String(64)

# The profiles identity told us about: status, and where a merged profile went.
profiles = Table(
    "profiles",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("profile_id", PROFILE, nullable=False),
    Column("status", String(16), nullable=False),  # ACTIVE, INACTIVE, MERGED, DELETED, ERASED
    Column("merged_into", PROFILE, nullable=True),
    # The end of the merge chain (itself unless merged): where this profile's activities hang.
    Column("root_id", PROFILE, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    PrimaryKeyConstraint("tenant_id", "profile_id"),
    Index(
        "ix_profiles_merged_into",
        "tenant_id",
        "merged_into",
        postgresql_where=text("merged_into IS NOT NULL"),
    ),
    # Only merged profiles: what a merge re-roots. (A full index would tempt the planner away from the
    # primary key when it looks up one profile.)
    Index("ix_profiles_root", "tenant_id", "root_id", postgresql_where=text("root_id <> profile_id")),
)

# key -> profile, learnt only from crm.identity. Invariant: a key points at a profile that is not merged.
profile_keys = Table(
    "profile_keys",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("tenant_id", TENANT, nullable=False),
    Column("key_type", String(32), nullable=False),
    Column("key_value", String(320), nullable=False),
    Column("profile_id", PROFILE, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("tenant_id", "key_type", "key_value"),
    Index("ix_profile_keys_profile", "tenant_id", "profile_id"),
)

activities = Table(
    "activities",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", TENANT, nullable=False),
    # NULL while pending: no key of the event is known to belong to a profile yet.
    Column("profile_id", PROFILE, nullable=True),
    # The profile the activity was first resolved to; unmerge uses it for activities without a key (notes).
    Column("origin_profile_id", PROFILE, nullable=True),
    # No foreign key: checking one per inserted activity costs throughput, and a key is only ever deleted
    # with the erased profile's activities. A dangling id reads as "no key" (see unmerge).
    Column("resolved_key_id", BigInteger, nullable=True),
    Column("resolved_rank", SmallInteger, nullable=True),  # identity's priority of the key that resolved it
    Column("type", String(40), nullable=False),
    Column("category", String(20), nullable=False),
    Column("title", String(300), nullable=False),
    Column("source_service", String(40), nullable=False),
    Column("source_event_id", String(200), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column(
        "counts", Boolean, nullable=False
    ),  # an engagement activity (counts in activityCount*, lastActivity*)
    Column("visible_to", String(200), nullable=True),  # the author of a private note; NULL: everyone
    UniqueConstraint("tenant_id", "source_service", "source_event_id"),
    Index(
        "ix_activities_timeline",
        "tenant_id",
        "profile_id",
        text("occurred_at DESC"),
        text("id DESC"),
        postgresql_include=["category", "type", "visible_to", "counts"],
        postgresql_where=text("profile_id IS NOT NULL"),
    ),
    Index("ix_activities_pending", "tenant_id", "recorded_at", postgresql_where=text("profile_id IS NULL")),
    Index(
        "ix_activities_private",
        "tenant_id",
        "profile_id",
        "visible_to",
        postgresql_where=text("visible_to IS NOT NULL"),
    ),
)

# The keys an activity still waits for: all its keys while pending, or the keys identity would prefer over
# the one that resolved it. They hold PII (emails, phones) and go as soon as they are no longer needed.
activity_key_waits = Table(
    "activity_key_waits",
    metadata,
    Column(
        "activity_id", UUID(as_uuid=True), ForeignKey("activities.id", ondelete="CASCADE"), nullable=False
    ),
    Column("tenant_id", TENANT, nullable=False),
    Column("key_type", String(32), nullable=False),
    Column("key_value", String(320), nullable=False),
    Column("rank", SmallInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("activity_id", "key_type"),
    Index("ix_activity_key_waits_key", "tenant_id", "key_type", "key_value"),
    Index("ix_activity_key_waits_created", "created_at"),
)

notes = Table(
    "notes",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", TENANT, nullable=False),
    Column("profile_id", PROFILE, nullable=False),
    Column("origin_profile_id", PROFILE, nullable=False),
    Column("type", String(20), nullable=False),
    Column("content", Text, nullable=False),
    Column("pinned", Boolean, nullable=False),
    Column("private", Boolean, nullable=False),
    Column("author", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_notes_profile", "tenant_id", "profile_id", "created_at"),
)

# How many activities everyone may see each profile has, kept by a trigger on activities (migration 0002),
# so a timeline page does not count 10,000 rows to say "10,000". Only the unfiltered total uses it.
activity_totals = Table(
    "activity_totals",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("profile_id", PROFILE, nullable=False),
    Column("public_count", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "profile_id"),
)

# The counters last published per profile, and when a rolling window next changes them.
profile_counters = Table(
    "profile_counters",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("profile_id", PROFILE, nullable=False),
    Column("counters", JSONB, nullable=False),
    Column("as_of", DateTime(timezone=True), nullable=False),
    Column("next_change_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("tenant_id", "profile_id"),
    Index("ix_profile_counters_due", "next_change_at", postgresql_where=text("next_change_at IS NOT NULL")),
)

# sha256 of (tenant, key type, key value) of erased profiles: no readable PII, enough to refuse late events
# that happened before the erasure.
erased_keys = Table(
    "erased_keys",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "key_hash"),
)
