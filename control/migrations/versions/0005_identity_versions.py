"""Trust: end-user identity, configuration versions (helper T2)

Conversations record the end user who started them (asserted by the company's backend)
and a hash of the conversation token given to whoever started it; API keys may be allowed
to assert end-user identities; each procedure carries its own version.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("end_user_id", sa.String(200), nullable=True))
        batch.add_column(sa.Column("token_hash", sa.String(64), nullable=True))
        batch.create_index("ix_conversations_end_user_id", ["tenant", "end_user_id"])
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column("asserts_identity", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("procedures") as batch:
        batch.add_column(
            sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )


def downgrade() -> None:
    with op.batch_alter_table("procedures") as batch:
        batch.drop_column("version")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("asserts_identity")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_end_user_id")
        batch.drop_column("token_hash")
        batch.drop_column("end_user_id")
