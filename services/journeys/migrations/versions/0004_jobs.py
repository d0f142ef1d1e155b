"""procrastinate's schema, for timers, date sweeps and A/B decisions

Revision ID: 0004
Revises: 0003
"""
from fairway_chassis.jobs import create_procrastinate_schema_op, drop_procrastinate_schema_op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_procrastinate_schema_op()


def downgrade() -> None:
    drop_procrastinate_schema_op()
