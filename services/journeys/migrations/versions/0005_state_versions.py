"""the read model bootstraps from crm.identity/timeline/scoring/segmentation.state: versions of the snapshots applied

Revision ID: 0005
Revises: 0004
"""
from fairway_events.state_readers import create_state_versions_op, drop_state_versions_op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_state_versions_op()


def downgrade() -> None:
    drop_state_versions_op()
