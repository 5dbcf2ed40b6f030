"""pace: the pace of each Slack Web API method, learned from its 429s and shared by every process

Revision ID: 0017_pace
Revises: 0016_teams
"""

import sqlalchemy as sa
from alembic import op

import storage.db

revision = "0017_pace"
down_revision = "0016_teams"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_paces",
        sa.Column("method", sa.String(length=50), nullable=False),
        sa.Column("per_second", sa.Float(), nullable=True),
        sa.Column("paused_until", storage.db.UTCDateTime(), nullable=True),
        sa.Column("updated_at", storage.db.UTCDateTime(), nullable=False),
        sa.Column("next_turn", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("method", name=op.f("pk_slack_paces")),
    )
    op.create_index("ix_outbox_messages_sent", "outbox_messages", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_messages_sent", table_name="outbox_messages")
    op.drop_table("slack_paces")
