"""The ml-scoring service's tables all hang off this metadata; migrations/ builds them."""

from sqlalchemy import (
    Boolean,
    Column,
    Computed,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from fairway_chassis import make_metadata
from fairway_events import event_tables
from fairway_ml_scoring.feature_fields import RAW_FIELDS

metadata = make_metadata()
outbox_table, inbox_table = event_tables(metadata)

# The feature log: every event that feeds a feature, by event time, under the subject it belongs to
# (a profile id once identity resolved it, a provisional key-derived id before).
ml_events = Table(
    "ml_events",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("subject_id", String(400), nullable=False),
    Column("resolved", Boolean, nullable=False),
    Column("keys", ARRAY(Text), nullable=False, server_default="{}"),
    Column("kind", String(40), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("amount", Float),
    Column("quantity", Integer),
    Column("attrs", JSONB, nullable=False, server_default="{}"),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "event_id"),
    Index("ix_ml_events_subject", "tenant_id", "subject_id", "occurred_at"),
    Index("ix_ml_events_keys", "keys", postgresql_using="gin"),
    Index("ix_ml_events_tenant_kind_time", "tenant_id", "kind", "occurred_at"),
)

# Events identity has not resolved yet, one row per key that would resolve them. An announcement finds its own
# parked events through this primary key, so it costs O(its keys' events) whatever the planner knows of
# ml_events (an overlap query on ml_events read every parked event of a new tenant, seconds per announcement).
ml_parked_keys = Table(
    "ml_parked_keys",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("key", String(400), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("subject_id", String(400), nullable=False),  # the provisional subject the event waits under
    PrimaryKeyConstraint("tenant_id", "key", "event_id"),
    Index("ix_ml_parked_keys_event", "tenant_id", "event_id"),
)

# Which profile each identity key belongs to, as crm.identity announced it.
ml_identity_keys = Table(
    "ml_identity_keys",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("key", String(400), nullable=False),
    Column("profile_id", String(200), nullable=False),
    PrimaryKeyConstraint("tenant_id", "key"),
    Index("ix_ml_identity_keys_profile", "tenant_id", "profile_id"),
)

# Profiles identity told us about; `segment` (membership tier) pools send-time priors.
ml_profiles = Table(
    "ml_profiles",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("profile_id", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("merged_into", String(200)),
    Column("segment", String(100)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "profile_id"),
)

# The current scores of each subject (what score.updated last announced) and the features they came from.
ml_scores = Table(
    "ml_scores",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("subject_id", String(400), nullable=False),
    Column("engagement_score", Float, nullable=False),
    Column("churn_probability", Float, nullable=False),
    Column("risk_level", String(10), nullable=False),
    Column("predicted_clv", Float),
    Column("model_version", String(100), nullable=False),
    Column("features", JSONB, nullable=False, server_default="{}"),
    Column("scored_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "subject_id"),
    Index("ix_ml_scores_scored", "tenant_id", "scored_at"),
)

# The send-time profile last announced per member (send_time.profile_updated): a profile is announced again only
# when what dispatch acts on changes (the best hour, the source, or the confidence by SEND_TIME_CONFIDENCE_STEP).
ml_send_times = Table(
    "ml_send_times",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("subject_id", String(400), nullable=False),
    Column("best_hour", Integer, nullable=False),
    Column("source", String(20), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("announced_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "subject_id"),
)

ml_churn_predictions = Table(
    "ml_churn_predictions",
    metadata,
    Column("id", UUID(as_uuid=False), nullable=False, primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("subject_id", String(400), nullable=False),
    Column("churn_probability", Float, nullable=False),
    Column("risk_level", String(10), nullable=False),
    Column("days_until_churn", Integer),
    Column("predicted_churn_date", Date),
    Column("horizon_days", Integer, nullable=False),
    Column("top_factors", JSONB, nullable=False),
    Column("recommended_actions", JSONB, nullable=False),
    Column("model_name", String(200), nullable=False),
    Column("model_version", String(100), nullable=False),
    Column("variant", String(20), nullable=False),  # champion | challenger | rules
    Column("source", String(10), nullable=False),  # MODEL | RULES
    Column("fallback_reason", Text),
    Column("features", JSONB, nullable=False),
    Column("predicted_at", DateTime(timezone=True), nullable=False),
    Column("valid_until", DateTime(timezone=True), nullable=False),
    Column("actual_churned", Boolean),
    Column("actual_churn_date", Date),
    Column("outcome_recorded_at", DateTime(timezone=True)),
    Column("was_accurate", Boolean),
    Index("ix_ml_churn_predictions_subject", "tenant_id", "subject_id", "predicted_at"),
    Index("ix_ml_churn_predictions_risk", "tenant_id", "risk_level", "valid_until"),
    Index("ix_ml_churn_predictions_model", "tenant_id", "model_name", "model_version"),
)

# Alerts already raised (drift, degradation), so a persisting condition is announced once per period.
ml_alerts = Table(
    "ml_alerts",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("value", Float),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "kind", "subject"),
)

# Feast's offline source: change-point feature rows (features/engine.py), replaced per tenant on export.
ml_feature_snapshots = Table(
    "ml_feature_snapshots",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("profile_id", String(400), nullable=False),
    Column("event_timestamp", DateTime(timezone=True), nullable=False),
    *[Column(f, Float) for f in RAW_FIELDS],
    # RAW_FIELDS packed into one array (NaN = unknown): the online store's single value per member.
    Column(
        "raw",
        ARRAY(Float),
        Computed(
            "ARRAY[" + ", ".join(f"COALESCE({f}, 'NaN'::float8)" for f in RAW_FIELDS) + "]", persisted=True
        ),
        nullable=False,
    ),
    Index("ix_ml_feature_snapshots_entity", "tenant_id", "profile_id", "event_timestamp"),
    Index("ix_ml_feature_snapshots_time", "event_timestamp"),
)
