"""scores of profiles only: drop those stored under provisional (key-derived) subjects

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A provisional subject is a key hash, not a customer; it is scored once identity announces its profile.
    op.execute(
        "DELETE FROM ml_scores s WHERE NOT EXISTS (SELECT 1 FROM ml_profiles p WHERE p.tenant_id = s.tenant_id "
        "AND p.profile_id = s.subject_id AND p.status = 'ACTIVE')"
    )


def downgrade() -> None:
    pass  # the scores come back as events are re-scored; nothing to restore
