"""event outbox and inbox

Revision ID: 0001
Revises:
"""
from fairway_events.tables import create_event_tables_op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_tables_op()


def downgrade() -> None:
    raise NotImplementedError("the event tables are the service's durable record; they are never dropped")
