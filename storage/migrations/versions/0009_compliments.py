"""customer compliments: the compliments table; a kudos may come from a customer (no giver) for a ticket

Revision ID: 0009_compliments
Revises: 0008_moderation
"""

import sqlalchemy as sa
from alembic import op

import storage.db

revision = "0009_compliments"
down_revision = "0008_moderation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("desk", sa.String(length=20), nullable=False),
        sa.Column("ticket_id", sa.String(length=100), nullable=False),
        sa.Column("rating", sa.String(length=20), nullable=False),
        sa.Column("agent_email_hash", sa.String(length=64), nullable=True),
        sa.Column("received_at", storage.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliments")),
        sa.UniqueConstraint("desk", "ticket_id", name="uq_compliments_desk_ticket"),
    )
    with op.batch_alter_table("compliments", schema=None) as batch_op:
        batch_op.create_index("ix_compliments_received_at", ["received_at"], unique=False)

    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_id", sa.String(length=100), nullable=True))
        batch_op.alter_column("giver_id", existing_type=sa.String(length=32), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM kudos WHERE giver_id IS NULL")  # customers' kudos: there is no giver to put back
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.alter_column("giver_id", existing_type=sa.String(length=32), nullable=False)
        batch_op.drop_column("ticket_id")

    with op.batch_alter_table("compliments", schema=None) as batch_op:
        batch_op.drop_index("ix_compliments_received_at")

    op.drop_table("compliments")
