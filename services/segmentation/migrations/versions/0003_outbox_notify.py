"""the outbox notifies its relay of committed rows

Revision ID: 0003
Revises: 0002
"""
from alembic import op

from fairway_events.tables import create_outbox_notify_op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_notify_op()


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS event_outbox_notify ON event_outbox")
