"""content approvals

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval_settings",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("settings", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_approval_settings"),
    )
    op.create_table(
        "content_approvals",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("field", sa.String(8), nullable=False),
        sa.Column("variant", sa.String(40)),
        sa.Column("content_type", sa.String(16), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("requirement", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("gateway_flagged", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reviewer", sa.String(200)),
        sa.Column("feedback", sa.Text),
        sa.Column("edited", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_content_approvals"),
    )
    op.create_index("ix_content_approvals_campaign", "content_approvals", ["tenant_id", "campaign_id", "status"])
    op.create_index("ix_content_approvals_pending", "content_approvals", ["tenant_id", "status", "created_at"])
    op.create_index("ix_content_approvals_expiry", "content_approvals", ["expires_at"],
                    postgresql_where=sa.text("status = 'PENDING'"))
    op.create_table(
        "approved_texts",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("approved_uses", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "content_hash", name="pk_approved_texts"),
    )


def downgrade() -> None:
    for table in ("approved_texts", "content_approvals", "approval_settings"):
        op.drop_table(table)
