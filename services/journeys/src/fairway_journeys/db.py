"""The journeys service's tables all hang off this metadata; migrations/ builds them.

- `journeys`, `journey_versions`: definitions (the editable one on the journey, frozen ones per version).
- `runs`, `run_steps`: one run per member per entry, and its step history.
- `run_timers`, `run_waits`: what a waiting run waits for: a time (fired in set-based batches by due_at) or an
  event (matched by type and key). A run has at most one of each; both are deleted in the transaction that moves
  the run on, and every mover locks the run row and checks its `seq`, so no step runs twice.
- `sends`: each SEND's dispatch request, its outcome and the opens and clicks Messaging reported.
- `split_winners`: A/B SPLIT steps whose winner was chosen.
- `members`, `member_keys`, `segment_members`: the read model CONDITIONs, entry checks and triggers use, built
  only from crm.identity, crm.timeline, crm.scoring and crm.segmentation events.
"""
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from fairway_chassis import make_metadata
from fairway_events import event_tables

metadata = make_metadata()
outbox_table, inbox_table = event_tables(metadata)

TS = DateTime(timezone=True)
ID = String(200)
TENANT = String(64)

journeys = Table(
    "journeys",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("id", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("goal_text", Text),  # the goal in words (the definition's `goal` is the machine-checked one)
    Column("status", String(16), nullable=False),  # DRAFT, ACTIVE, PAUSED, ARCHIVED
    Column("definition", JSONB, nullable=False),  # the editable definition, valid
    Column("active_version", Integer),  # the version new runs enter
    Column("latest_version", Integer, nullable=False, server_default=text("0")),
    Column("origin", String(16), nullable=False, server_default=text("'USER'")),  # USER, GENERATED, TEMPLATE
    Column("created_by", Text),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    Index("ix_journeys_tenant_status", "tenant_id", "status"),
)

journey_versions = Table(
    "journey_versions",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("journey_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition", JSONB, nullable=False),
    Column("created_at", TS, nullable=False),
    PrimaryKeyConstraint("tenant_id", "journey_id", "version"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", TENANT, nullable=False),
    Column("journey_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("profile_id", ID, nullable=False),
    Column("entry_key", Text, nullable=False),  # "once", "key:<booking id>", or the trigger's event id
    Column("status", String(16), nullable=False),  # ACTIVE, COMPLETED, CONVERTED, EXITED
    Column("step_id", String(64)),  # where it is (or ended)
    Column("seq", Integer, nullable=False),  # steps entered so far; every mover checks it
    Column("waiting", Text),  # why it is not moving: "timer", "event:<type>", "dispatch"; NULL when moving
    Column("step_entered_at", TS, nullable=False),
    Column("started_at", TS, nullable=False),
    Column("ended_at", TS),
    Column("end_reason", String(32)),
    Column("trigger", Text, nullable=False),
    Column("context", JSONB, nullable=False, server_default=text("'{}'::jsonb")),  # sends, split choices, payload
    UniqueConstraint("tenant_id", "journey_id", "profile_id", "entry_key", name="uq_runs_entry"),
    Index("ix_runs_tenant_profile_status", "tenant_id", "profile_id", "status"),
    Index("ix_runs_tenant_journey_status", "tenant_id", "journey_id", "status"),
)

run_steps = Table(
    "run_steps",
    metadata,
    Column("run_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("tenant_id", TENANT, nullable=False),
    Column("journey_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("step_id", String(64), nullable=False),
    Column("step_type", String(16), nullable=False),
    Column("entered_at", TS, nullable=False),
    Column("completed_at", TS),
    Column("outcome", Text),  # branch taken; NULL while in the step; "exited"/"converted" when ended there
    PrimaryKeyConstraint("run_id", "seq"),
    Index("ix_run_steps_journey", "tenant_id", "journey_id", "version", "step_id"),
)

run_timers = Table(
    "run_timers",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("tenant_id", TENANT, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("due_at", TS, nullable=False),
    Index("ix_run_timers_due_at", "due_at"),
    Index("ix_run_timers_tenant_due", "tenant_id", "due_at"),
)

run_waits = Table(
    "run_waits",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("tenant_id", TENANT, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("event_type", Text, nullable=False),  # or "dispatch.outcome"
    Column("match_key", Text, nullable=False),  # the profile id, or the dispatch request id of this run's message
    Index("ix_run_waits_match", "tenant_id", "event_type", "match_key"),
)

sends = Table(
    "sends",
    metadata,
    Column("request_id", String(64), primary_key=True),  # dispatch_request_id(...)
    Column("tenant_id", TENANT, nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("journey_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("step_id", String(64), nullable=False),
    Column("variant", Text),  # "<split step>:<branch>" of the latest SPLIT the run took, for A/B tests
    Column("profile_id", ID, nullable=False),
    Column("channel", String(8), nullable=False),
    Column("requested_at", TS, nullable=False),
    Column("outcome", String(16)),  # dispatch's outcome, NULL until it answers
    Column("reason", Text),
    Column("opened_at", TS),
    Column("clicked_at", TS),
    Index("ix_sends_journey", "tenant_id", "journey_id", "version", "step_id"),
)

split_winners = Table(
    "split_winners",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("journey_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("step_id", String(64), nullable=False),
    Column("branch", Text, nullable=False),
    Column("confidence", Double, nullable=False),
    Column("evidence", JSONB, nullable=False),
    Column("decided_at", TS, nullable=False),
    PrimaryKeyConstraint("tenant_id", "journey_id", "version", "step_id"),
)

members = Table(
    "members",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("profile_id", ID, nullable=False),
    Column("status", String(16)),  # NULL until identity told us about the person
    Column("fields", JSONB, nullable=False, server_default=text("'{}'::jsonb")),  # catalogue field -> value
    Column("date_of_birth", Date),
    Column("membership_expiry", Date),
    Column("member_since", Date),
    Column("time_zone", Text),  # NULL: the journey's time zone
    Column("counters_as_of", TS),
    Column("updated_at", TS, nullable=False),
    PrimaryKeyConstraint("tenant_id", "profile_id"),
)

member_keys = Table(
    "member_keys",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("key_type", String(32), nullable=False),
    Column("value", Text, nullable=False),
    Column("profile_id", ID, nullable=False),
    PrimaryKeyConstraint("tenant_id", "key_type", "value"),
    Index("ix_member_keys_profile", "tenant_id", "profile_id"),
)

segment_members = Table(
    "segment_members",
    metadata,
    Column("tenant_id", TENANT, nullable=False),
    Column("segment_id", String(200), nullable=False),
    Column("profile_id", ID, nullable=False),
    Column("since", TS, nullable=False),
    PrimaryKeyConstraint("tenant_id", "segment_id", "profile_id"),
    Index("ix_segment_members_profile", "tenant_id", "profile_id"),
)

date_trigger_days = Table(
    "date_trigger_days",
    metadata,
    # The local days a date-triggered journey has been swept for, so a restart never sweeps a day twice.
    Column("tenant_id", TENANT, nullable=False),
    Column("journey_id", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("swept_at", TS, nullable=False),
    Column("entered", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "journey_id", "day"),
)
