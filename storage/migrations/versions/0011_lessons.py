"""lessons: lessons and their Useful votes; a tip's credit and the day a queued tip comes

Revision ID: 0011_lessons
Revises: 0010_mentor
"""

import sqlalchemy as sa
from alembic import op

import storage.db


revision = "0011_lessons"
down_revision = "0010_mentor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lessons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("theme", sa.String(length=50), nullable=True),
        sa.Column("author_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", storage.db.UTCDateTime(), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=True),
        sa.Column("promoted_at", storage.db.UTCDateTime(), nullable=True),
        sa.Column("promoted_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["tip_id"], ["tips.id"], name=op.f("fk_lessons_tip_id_tips")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lessons")),
        sa.UniqueConstraint("tip_id", name=op.f("uq_lessons_tip_id")),
    )
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.create_index("ix_lessons_author_id", ["author_id"], unique=False)
        batch_op.create_index("ix_lessons_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_lessons_promoted_at", ["promoted_at"], unique=False)

    op.create_table(
        "lesson_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("voter_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", storage.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"], name=op.f("fk_lesson_votes_lesson_id_lessons"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_votes")),
        sa.UniqueConstraint("lesson_id", "voter_id", name="uq_lesson_votes_lesson_id_voter_id"),
    )
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credit", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("show_from", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.drop_column("show_from")
        batch_op.drop_column("credit")

    op.drop_table("lesson_votes")
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_index("ix_lessons_promoted_at")
        batch_op.drop_index("ix_lessons_created_at")
        batch_op.drop_index("ix_lessons_author_id")

    op.drop_table("lessons")
