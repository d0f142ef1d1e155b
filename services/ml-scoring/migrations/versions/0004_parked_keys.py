"""parked events by the keys that would resolve them

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ml_parked_keys",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("subject_id", sa.String(400), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key", "event_id", name="pk_ml_parked_keys"),
    )
    op.create_index("ix_ml_parked_keys_event", "ml_parked_keys", ["tenant_id", "event_id"])
    # Events already waiting keep waiting, now by key.
    op.execute(
        "INSERT INTO ml_parked_keys (tenant_id, key, event_id, subject_id) "
        "SELECT tenant_id, unnest(keys), event_id, subject_id FROM ml_events WHERE resolved IS false "
        "ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    op.drop_table("ml_parked_keys")
