"""Trust: approvals bound to their action, per-tenant action connections (helper T1)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_connections",
        sa.Column("tenant", sa.String(40), sa.ForeignKey("tenants.name"), primary_key=True),
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("allowed_origins", sa.Text(), nullable=False),
        sa.Column("secret_headers", sa.Text(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=False),
        sa.Column("timeout_s", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "draft_actions",
        sa.Column("message_id", sa.String(40), sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column("tenant", sa.String(40), nullable=False, index=True),
        sa.Column("conversation_id", sa.String(40), nullable=False, index=True),
        sa.Column("procedure_id", sa.String(80), nullable=False),
        sa.Column("step_id", sa.String(80), nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("connection", sa.String(40), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("describe", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("draft_actions")
    op.drop_table("action_connections")
