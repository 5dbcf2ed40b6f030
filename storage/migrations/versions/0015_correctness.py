"""correctness: the mentoring rounds that were matched, also those that paired nobody

Revision ID: 0015_correctness
Revises: 0014_hardening
"""

import sqlalchemy as sa
from alembic import op

import storage.db

revision = "0015_correctness"
down_revision = "0014_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mentor_rounds",
        sa.Column("round", sa.Date(), nullable=False),
        sa.Column("matched_at", storage.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("round", name=op.f("pk_mentor_rounds")),
    )
    # Every round that paired someone was matched; those that paired nobody left no trace before.
    op.execute(
        "INSERT INTO mentor_rounds (round, matched_at) SELECT round, MIN(created_at) FROM mentor_pairs GROUP BY round"
    )


def downgrade() -> None:
    op.drop_table("mentor_rounds")
