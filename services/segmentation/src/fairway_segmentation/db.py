"""The segmentation service's tables all hang off this metadata; migrations/ builds them.

- `profiles`: the read model, one row per person, built only from crm.identity, crm.timeline and crm.scoring.
- `profile_tombstones`: ids that were merged away or erased, so a late event never brings them back.
- `segments`, `segment_members`, `segment_size_history`: the segments, their members and how their size moved.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from fairway_chassis import make_metadata
from fairway_events import event_tables

metadata = make_metadata()
outbox_table, inbox_table = event_tables(metadata)


def _count(name: str) -> Column:
    # A person timeline never reported on has done nothing it counts: 0, not unknown.
    return Column(name, Integer, nullable=False, server_default=text("0"))


profiles = Table(
    "profiles",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("profile_id", String(200), nullable=False),
    # NULL until identity told us about the person (a counter can arrive first): such rows are never members.
    Column("status", Text),
    Column("lifecycle_stage", Text),
    Column("first_name", Text),
    Column("last_name", Text),
    Column("membership_number", Text),
    Column("membership_tier", Text),
    Column("membership_status", Text),
    Column("member_since", Date),
    Column("membership_expiry", Date),
    Column("handicap", Double),
    Column("lifetime_value", BigInteger),
    Column("home_club", Text),
    Column("email_opt_in", Boolean),
    Column("sms_opt_in", Boolean),
    Column("push_opt_in", Boolean),
    Column("whatsapp_opt_in", Boolean),
    Column("tags", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    # Contact fields for Messaging, and the keys a CSV import matches on (lower-cased).
    Column("email", Text),
    Column("phone_number", Text),
    Column("messaging_contact_id", Text),
    Column("emails", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("scl_member_ids", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    # crm.timeline
    _count("activity_count_30d"),
    _count("activity_count_90d"),
    _count("booking_count_30d"),
    _count("booking_count_90d"),
    _count("rounds_played_30d"),
    _count("rounds_played_90d"),
    _count("email_sends_30d"),
    _count("email_opens_30d"),
    _count("email_clicks_30d"),
    Column("last_activity_at", DateTime(timezone=True)),
    Column("last_activity_type", Text),
    Column("last_booking_at", DateTime(timezone=True)),
    Column("last_round_at", DateTime(timezone=True)),
    Column("last_email_open_at", DateTime(timezone=True)),
    Column("last_email_click_at", DateTime(timezone=True)),
    Column("counters_as_of", DateTime(timezone=True)),
    # crm.scoring
    Column("engagement_score", Double),
    Column("churn_risk_score", Double),
    Column("risk_level", Text),
    Column("predicted_clv", Double),
    Column("value_segment", Text),
    Column("scores_as_of", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "profile_id"),
    Index("ix_profiles_emails", "emails", postgresql_using="gin"),
    Index("ix_profiles_scl_member_ids", "scl_member_ids", postgresql_using="gin"),
    Index("ix_profiles_membership_number", "tenant_id", func.lower(text("membership_number"))),
)

profile_tombstones = Table(
    "profile_tombstones",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("profile_id", String(200), nullable=False),
    Column("reason", String(20), nullable=False),  # "merged" | "erased"
    Column("merged_into", String(200)),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "profile_id"),
)

segments = Table(
    "segments",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("segment_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("type", String(10), nullable=False),  # DYNAMIC | STATIC
    Column("criteria", JSONB),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("sync_to_messaging", Boolean, nullable=False, server_default=text("false")),
    Column("member_count", Integer, nullable=False, server_default=text("0")),
    # "instant" / "day" when relative dates make membership move as time passes; NULL when it cannot.
    Column("time_sensitivity", String(10)),
    Column("last_refreshed_at", DateTime(timezone=True)),
    Column("time_checked_at", DateTime(timezone=True)),
    Column("last_synced_at", DateTime(timezone=True)),
    Column("created_by", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "segment_id"),
    Index("uq_segments_tenant_name", "tenant_id", func.lower(text("name")), unique=True),
)

segment_members = Table(
    "segment_members",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("segment_id", String(64), nullable=False),
    Column("profile_id", String(200), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("source", String(20), nullable=False),  # rule | static | import | merged
    # No foreign key to segments (see migration 0002): deleting a segment deletes its members explicitly.
    PrimaryKeyConstraint("tenant_id", "segment_id", "profile_id"),
    Index("ix_segment_members_profile", "tenant_id", "profile_id"),
)

segment_size_history = Table(
    "segment_size_history",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("segment_id", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("member_count", Integer, nullable=False),
    Column("entered", Integer, nullable=False),
    Column("exited", Integer, nullable=False),
    Column("reason", String(20), nullable=False),
    ForeignKeyConstraint(
        ["tenant_id", "segment_id"], ["segments.tenant_id", "segments.segment_id"], ondelete="CASCADE"
    ),
    Index("ix_segment_size_history_segment", "tenant_id", "segment_id", "at"),
)
