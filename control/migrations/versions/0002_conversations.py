"""agent: tenant configs, procedures, conversations, messages, traces

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_configs",
        sa.Column("tenant", sa.String(40), sa.ForeignKey("tenants.name"), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "procedures",
        sa.Column("tenant", sa.String(40), sa.ForeignKey("tenants.name"), primary_key=True),
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant", sa.String(40), sa.ForeignKey("tenants.name"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("scenario", sa.Text(), nullable=False),
        sa.Column("procedure_state", sa.Text(), nullable=True),
        sa.Column("handoff_summary", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_conversations_tenant", "conversations", ["tenant"])
    op.create_table(
        "messages",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "conversation_id", sa.String(40), sa.ForeignKey("conversations.id"), nullable=False
        ),
        sa.Column("tenant", sa.String(40), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("citations", sa.Text(), nullable=False),
        sa.Column("trace_id", sa.String(40), nullable=True),
        sa.Column("draft_status", sa.String(16), nullable=True),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
        sa.Column("rating", sa.String(8), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_messages_conversation_id", "messages", ["conversation_id"])
    op.create_index("ix_messages_tenant", "messages", ["tenant"])
    op.create_index("ix_messages_trace_id", "messages", ["trace_id"])
    op.create_table(
        "traces",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant", sa.String(40), nullable=False),
        sa.Column("conversation_id", sa.String(40), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_traces_tenant", "traces", ["tenant"])


def downgrade() -> None:
    for table in ("traces", "messages", "conversations", "procedures", "tenant_configs"):
        op.drop_table(table)
