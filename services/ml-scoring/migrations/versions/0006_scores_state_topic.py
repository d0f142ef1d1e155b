"""scores announce themselves on crm.scoring.state

Revision ID: 0006
Revises: 0005
"""
from fairway_events.state_topics import add_state_flag_op, drop_state_flag_op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_state_flag_op("ml_scores", columns=["engagement_score", "churn_probability", "risk_level", "predicted_clv"],
                      gone_key="OLD.subject_id")


def downgrade() -> None:
    drop_state_flag_op("ml_scores")
