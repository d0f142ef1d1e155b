"""procrastinate's job queue (scheduled sends, held messages, periodic work)

Revision ID: 0003
Revises: 0002
"""
from fairway_chassis.jobs import create_procrastinate_schema_op, drop_procrastinate_schema_op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_procrastinate_schema_op()


def downgrade() -> None:
    drop_procrastinate_schema_op()
