"""moderation: hidden kudos, ideas and feedback, the log of hides, anonymous feedback counts

Revision ID: 0008_moderation
Revises: 0007_reruns_directory_privacy
"""

import sqlalchemy as sa
from alembic import op

import storage.db

revision = "0008_moderation"
down_revision = "0007_reruns_directory_privacy"
branch_labels = None
depends_on = None

# Counts that leave hidden kudos out read them from the index alone.
KUDOS_INDEXES = {
    "ix_kudos_created_at": ["created_at"],
    "ix_kudos_recipient_id_created_at": ["recipient_id", "created_at"],
}


def upgrade() -> None:
    for table in ("kudos", "ideas", "feedback"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("hidden_at", storage.db.UTCDateTime(), nullable=True))
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        for name, columns in KUDOS_INDEXES.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, [*columns, "hidden_at"], unique=False)
    op.create_table(
        "moderation_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("admin_id", sa.String(length=32), nullable=False),
        sa.Column("at", storage.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_log")),
    )
    op.create_table(
        "anonymous_feedback_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("giver_key", sa.String(length=64), nullable=False),
        sa.Column("given", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "giver_key", name=op.f("pk_anonymous_feedback_counts")),
    )


def downgrade() -> None:
    op.drop_table("anonymous_feedback_counts")
    op.drop_table("moderation_log")
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        for name, columns in KUDOS_INDEXES.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, columns, unique=False)
    for table in ("feedback", "ideas", "kudos"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("hidden_at")
