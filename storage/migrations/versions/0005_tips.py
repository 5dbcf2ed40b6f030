"""tips: the tips, the tip of each day, tip subscribers

Revision ID: 0005_tips
Revises: 0004_feedback
"""

import sqlalchemy as sa
from alembic import op

import storage.db

revision = "0005_tips"
down_revision = "0004_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tip_subscribers",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("subscribed_at", storage.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_tip_subscribers")),
    )
    op.create_table(
        "tips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=True),
        sa.Column("theme", sa.String(length=50), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("added_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", storage.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tips")),
        sa.UniqueConstraint("key", name=op.f("uq_tips_key")),
    )
    op.create_table(
        "daily_tips",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tip_id"], ["tips.id"], name=op.f("fk_daily_tips_tip_id_tips")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_daily_tips")),
    )
    with op.batch_alter_table("daily_tips", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_daily_tips_tip_id"), ["tip_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("daily_tips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_daily_tips_tip_id"))

    op.drop_table("daily_tips")
    op.drop_table("tips")
    op.drop_table("tip_subscribers")
