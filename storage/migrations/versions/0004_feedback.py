"""feedback requests and growth-oriented feedback

Revision ID: 0004_feedback
Revises: 0003_reaction_kudos
"""

import sqlalchemy as sa
from alembic import op

import storage.db

revision = "0004_feedback"
down_revision = "0003_reaction_kudos"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("about_id", sa.String(length=32), nullable=False),
        sa.Column("giver_id", sa.String(length=32), nullable=True),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("requested", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.db.UTCDateTime(), nullable=False),
        sa.Column("reminded_at", storage.db.UTCDateTime(), nullable=True),
        sa.Column("expired_at", storage.db.UTCDateTime(), nullable=True),
        sa.Column("answered_at", storage.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_about_id_status", ["about_id", "status"], unique=False)
        batch_op.create_index("ix_feedback_giver_id_status", ["giver_id", "status"], unique=False)
        batch_op.create_index("ix_feedback_status_created_at", ["status", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_status_created_at")
        batch_op.drop_index("ix_feedback_giver_id_status")
        batch_op.drop_index("ix_feedback_about_id_status")

    op.drop_table("feedback")
