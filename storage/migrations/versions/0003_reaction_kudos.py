"""reaction kudos: the message a reaction kudos is on, once per giver and message

Revision ID: 0003_reaction_kudos
Revises: 0002_ideas
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_reaction_kudos"
down_revision = "0002_ideas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reacted_channel", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("reacted_ts", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint("uq_kudos_giver_reaction", ["giver_id", "reacted_channel", "reacted_ts"])


def downgrade() -> None:
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.drop_constraint("uq_kudos_giver_reaction", type_="unique")
        batch_op.drop_column("reacted_ts")
        batch_op.drop_column("reacted_channel")
