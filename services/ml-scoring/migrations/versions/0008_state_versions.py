"""the key map and profiles bootstrap from crm.identity.state and crm.timeline.state: versions of the snapshots applied

Revision ID: 0008
Revises: 0007
"""
from fairway_events.state_readers import create_state_versions_op, drop_state_versions_op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_state_versions_op()


def downgrade() -> None:
    drop_state_versions_op()
