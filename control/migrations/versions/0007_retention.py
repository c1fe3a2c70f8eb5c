"""Privacy: erasure and retention schedules (helper P2)

Each tenant's retention policy (the YAML text the admin set, versioned). Erasures and
retention runs record their intent in `privacy_operations` (0006).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_policies",
        sa.Column("tenant", sa.String(40), sa.ForeignKey("tenants.name"), primary_key=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("retention_policies")
