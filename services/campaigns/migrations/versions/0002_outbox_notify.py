"""the outbox notifies its relay of committed rows

Revision ID: 0002
Revises: 0001
"""
from fairway_events.tables import create_outbox_notify_op, drop_outbox_notify_op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_notify_op()


def downgrade() -> None:
    drop_outbox_notify_op()
