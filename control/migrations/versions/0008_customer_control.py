"""Customer control: consent, training use, audit chain, AI usage (helper CC)

The audit log's hash chain (prev_hash, hash; existing entries are sealed here), each
tenant's customer-control settings (consent mode, privacy notice and its version, training
use), consent acceptances per conversation, end users' training opt-outs, and counts of
model calls per tenant.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from control.audit_chain import reseal_all

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_log", sa.Column("hash", sa.String(64), nullable=True))
    raw = op.get_bind().connection.driver_connection
    reseal_all(raw)  # type: ignore[arg-type]
    op.create_table(
        "customer_settings",
        sa.Column("tenant", sa.String(40), sa.ForeignKey("tenants.name"), primary_key=True),
        sa.Column("consent", sa.String(16), nullable=False),
        sa.Column("notice_text", sa.Text(), nullable=True),
        sa.Column("notice_version", sa.String(40), nullable=False),
        sa.Column("training_use", sa.String(16), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "consent_acceptances",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(40), nullable=False, index=True),
        sa.Column("conversation_id", sa.String(40), nullable=False, index=True),
        sa.Column("notice_version", sa.String(40), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "training_optouts",
        sa.Column("tenant", sa.String(40), primary_key=True),
        sa.Column("end_user_id", sa.String(200), primary_key=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "ai_usage",
        sa.Column("tenant", sa.String(40), primary_key=True),
        sa.Column("feature", sa.String(40), primary_key=True),
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("region", sa.String(8), primary_key=True),
        sa.Column("endpoint", sa.String(300), primary_key=True),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("chars_sent", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ai_usage")
    op.drop_table("training_optouts")
    op.drop_table("consent_acceptances")
    op.drop_table("customer_settings")
    op.drop_column("audit_log", "hash")
    op.drop_column("audit_log", "prev_hash")
