"""goals: growth goals, their milestones, and the progress logged on them

Revision ID: 0012_goals
Revises: 0011_lessons
"""

import sqlalchemy as sa
from alembic import op

import storage.db


revision = "0012_goals"
down_revision = "0011_lessons"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", storage.db.UTCDateTime(), nullable=False),
        sa.Column("closed_at", storage.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goals")),
        sa.UniqueConstraint("owner_id", "number", name=op.f("uq_goals_owner_id")),
    )
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.create_index("ix_goals_closed_at", ["closed_at"], unique=False)
        batch_op.create_index("ix_goals_status_owner_id", ["status", "owner_id"], unique=False)

    op.create_table(
        "goal_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reached_at", storage.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name=op.f("fk_goal_milestones_goal_id_goals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_milestones")),
        sa.UniqueConstraint("goal_id", "position", name=op.f("uq_goal_milestones_goal_id")),
    )
    with op.batch_alter_table("goal_milestones", schema=None) as batch_op:
        batch_op.create_index("ix_goal_milestones_reached_at", ["reached_at"], unique=False)

    op.create_table(
        "goal_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", storage.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name=op.f("fk_goal_progress_goal_id_goals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_progress")),
    )
    with op.batch_alter_table("goal_progress", schema=None) as batch_op:
        batch_op.create_index("ix_goal_progress_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_goal_progress_goal_id", ["goal_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("goal_progress", schema=None) as batch_op:
        batch_op.drop_index("ix_goal_progress_goal_id")
        batch_op.drop_index("ix_goal_progress_created_at")

    op.drop_table("goal_progress")
    with op.batch_alter_table("goal_milestones", schema=None) as batch_op:
        batch_op.drop_index("ix_goal_milestones_reached_at")

    op.drop_table("goal_milestones")
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_index("ix_goals_status_owner_id")
        batch_op.drop_index("ix_goals_closed_at")

    op.drop_table("goals")
