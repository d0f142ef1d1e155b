"""the outbox notifies its relay of committed rows

Revision ID: 0003
Revises: 0002
"""
from fairway_events.tables import create_outbox_notify_op, drop_outbox_notify_op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_notify_op()


def downgrade() -> None:
    drop_outbox_notify_op()
