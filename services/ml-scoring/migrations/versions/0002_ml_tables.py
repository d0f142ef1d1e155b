"""feature log, identity map, scores, churn predictions, alerts

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The raw feature columns as of this revision (a later revision adds columns; this list never changes).
SNAPSHOT_FIELDS = (
    'last_activity_ts', 'first_activity_ts', 'last_booking_ts', 'last_round_ts', 'last_purchase_ts',
    'last_email_open_ts', 'activity_30d', 'activity_90d', 'activity_365d', 'activity_all',
    'bookings_30d', 'bookings_90d', 'bookings_365d', 'rounds_30d', 'rounds_90d', 'rounds_365d',
    'cancellations_90d', 'cancellations_365d', 'purchases_90d', 'purchases_365d', 'spend_30d',
    'spend_90d', 'spend_365d', 'spend_all', 'payments_365d', 'payment_amount_365d',
    'email_sent_30d', 'email_sent_90d', 'email_opened_30d', 'email_opened_90d', 'email_clicked_30d',
    'email_clicked_90d', 'email_bounced_90d', 'sms_sent_30d', 'sms_sent_90d', 'push_sent_30d',
    'push_sent_90d', 'push_opened_30d', 'push_opened_90d', 'unsubscribes_365d', 'complaints_365d',
    'member_since_ts', 'membership_expiry_ts', 'membership_cancelled', 'handicap_latest',
    'handicap_90d_ago', 'consent_email', 'consent_sms', 'consent_push', 'consent_whatsapp',
    'event_count',
)


def upgrade() -> None:
    op.create_table(
        "ml_events",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("subject_id", sa.String(400), nullable=False),
        sa.Column("resolved", sa.Boolean, nullable=False),
        sa.Column("keys", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.Float),
        sa.Column("quantity", sa.Integer),
        sa.Column("attrs", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", name="pk_ml_events"),
    )
    op.create_index("ix_ml_events_subject", "ml_events", ["tenant_id", "subject_id", "occurred_at"])
    op.create_index("ix_ml_events_keys", "ml_events", ["keys"], postgresql_using="gin")
    op.create_index("ix_ml_events_tenant_kind_time", "ml_events", ["tenant_id", "kind", "occurred_at"])

    op.create_table(
        "ml_identity_keys",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("profile_id", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key", name="pk_ml_identity_keys"),
    )
    op.create_index("ix_ml_identity_keys_profile", "ml_identity_keys", ["tenant_id", "profile_id"])

    op.create_table(
        "ml_profiles",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("profile_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("merged_into", sa.String(200)),
        sa.Column("segment", sa.String(100)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("tenant_id", "profile_id", name="pk_ml_profiles"),
    )

    op.create_table(
        "ml_scores",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("subject_id", sa.String(400), nullable=False),
        sa.Column("engagement_score", sa.Float, nullable=False),
        sa.Column("churn_probability", sa.Float, nullable=False),
        sa.Column("risk_level", sa.String(10), nullable=False),
        sa.Column("predicted_clv", sa.Float),
        sa.Column("model_version", sa.String(100), nullable=False),
        sa.Column("features", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "subject_id", name="pk_ml_scores"),
    )
    op.create_index("ix_ml_scores_scored", "ml_scores", ["tenant_id", "scored_at"])

    op.create_table(
        "ml_churn_predictions",
        sa.Column("id", postgresql.UUID(as_uuid=False), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("subject_id", sa.String(400), nullable=False),
        sa.Column("churn_probability", sa.Float, nullable=False),
        sa.Column("risk_level", sa.String(10), nullable=False),
        sa.Column("days_until_churn", sa.Integer),
        sa.Column("predicted_churn_date", sa.Date),
        sa.Column("horizon_days", sa.Integer, nullable=False),
        sa.Column("top_factors", postgresql.JSONB, nullable=False),
        sa.Column("recommended_actions", postgresql.JSONB, nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(100), nullable=False),
        sa.Column("variant", sa.String(20), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("fallback_reason", sa.Text),
        sa.Column("features", postgresql.JSONB, nullable=False),
        sa.Column("predicted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actual_churned", sa.Boolean),
        sa.Column("actual_churn_date", sa.Date),
        sa.Column("outcome_recorded_at", sa.DateTime(timezone=True)),
        sa.Column("was_accurate", sa.Boolean),
        sa.PrimaryKeyConstraint("id", name="pk_ml_churn_predictions"),
    )
    op.create_index("ix_ml_churn_predictions_subject", "ml_churn_predictions",
                    ["tenant_id", "subject_id", "predicted_at"])
    op.create_index("ix_ml_churn_predictions_risk", "ml_churn_predictions", ["tenant_id", "risk_level", "valid_until"])
    op.create_index("ix_ml_churn_predictions_model", "ml_churn_predictions",
                    ["tenant_id", "model_name", "model_version"])

    op.create_table(
        "ml_alerts",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "kind", "subject", name="pk_ml_alerts"),
    )

    op.create_table(
        "ml_feature_snapshots",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("profile_id", sa.String(400), nullable=False),
        sa.Column("event_timestamp", sa.DateTime(timezone=True), nullable=False),
        *[sa.Column(f, sa.Float) for f in SNAPSHOT_FIELDS],
    )
    # The same row packed into one array (SNAPSHOT_FIELDS order, NaN for unknown): what the online store
    # serves, one value per member instead of one per feature.
    packed = ", ".join(f"COALESCE({f}, 'NaN'::float8)" for f in SNAPSHOT_FIELDS)
    op.add_column("ml_feature_snapshots", sa.Column(
        "raw", postgresql.ARRAY(sa.Float), sa.Computed(f"ARRAY[{packed}]", persisted=True), nullable=False))
    op.create_index("ix_ml_feature_snapshots_entity", "ml_feature_snapshots",
                    ["tenant_id", "profile_id", "event_timestamp"])
    op.create_index("ix_ml_feature_snapshots_time", "ml_feature_snapshots", ["event_timestamp"])


def downgrade() -> None:
    for table in ("ml_feature_snapshots", "ml_alerts", "ml_churn_predictions", "ml_scores", "ml_profiles", "ml_identity_keys", "ml_events"):
        op.drop_table(table)
