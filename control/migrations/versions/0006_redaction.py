"""Privacy: operations that remove personal data, recorded before they start (helper P1)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_operations",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant", sa.String(40), nullable=False, index=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("step", sa.String(24), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "privacy_settings",
        sa.Column("tenant", sa.String(40), sa.ForeignKey("tenants.name"), primary_key=True),
        sa.Column("redact_ingestion", sa.Boolean(), nullable=False),
        sa.Column("entity_types", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("privacy_settings")
    op.drop_table("privacy_operations")
