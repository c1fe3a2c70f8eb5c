"""QA loop: scores on traces, review queue, reviews, golden cases

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("traces") as batch:
        batch.add_column(sa.Column("scored_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_traces_scored_at", ["scored_at"])
    op.create_table(
        "qa_queue",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant", sa.String(40), nullable=False, index=True),
        sa.Column("trace_id", sa.String(40), nullable=False, index=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "qa_reviews",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant", sa.String(40), nullable=False, index=True),
        sa.Column("trace_id", sa.String(40), nullable=False, index=True),
        sa.Column("reviewer", sa.String(64), nullable=False),
        sa.Column("verdict", sa.String(24), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("corrected_answer", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "golden_cases",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("tenant", sa.String(40), primary_key=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("golden_cases", "qa_reviews", "qa_queue"):
        op.drop_table(table)
    with op.batch_alter_table("traces") as batch:
        batch.drop_index("ix_traces_scored_at")
        batch.drop_column("scored_at")
