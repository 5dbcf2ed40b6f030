"""hardening: withdrawn reaction kudos are kept (hidden) instead of deleted; daily post counts

Revision ID: 0014_hardening
Revises: 0013_idea_impact
"""

import sqlalchemy as sa
from alembic import op

import storage.db

revision = "0014_hardening"
down_revision = "0013_idea_impact"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", storage.db.UTCDateTime(), nullable=True))
    op.create_table(
        "daily_post_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("poster_key", sa.String(length=64), nullable=False),
        sa.Column("posted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "poster_key", name=op.f("pk_daily_post_counts")),
    )


def downgrade() -> None:
    op.drop_table("daily_post_counts")
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
