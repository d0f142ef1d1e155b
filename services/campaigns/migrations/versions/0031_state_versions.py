"""the audience and key map bootstrap from crm.identity.state and crm.segmentation.state: versions of the snapshots applied

Revision ID: 0031
Revises: 0030
"""
from fairway_events.state_readers import create_state_versions_op, drop_state_versions_op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_state_versions_op()


def downgrade() -> None:
    drop_state_versions_op()
