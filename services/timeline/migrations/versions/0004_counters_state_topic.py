"""counters announce themselves on crm.timeline.state

Revision ID: 0004
Revises: 0003
"""
from fairway_events.state_topics import add_state_flag_op, drop_state_flag_op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_state_flag_op("profile_counters", columns=["counters"], gone_key="OLD.profile_id")


def downgrade() -> None:
    drop_state_flag_op("profile_counters")
