"""mentor: skills offered and wanted, and the pairs each round made

Revision ID: 0010_mentor
Revises: 0009_compliments
"""

import sqlalchemy as sa
from alembic import op

import storage.db

revision = "0010_mentor"
down_revision = "0009_compliments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mentor_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Date(), nullable=False),
        sa.Column("mentor_id", sa.String(length=32), nullable=False),
        sa.Column("learner_id", sa.String(length=32), nullable=False),
        sa.Column("skill", sa.String(length=40), nullable=False),
        sa.Column("created_at", storage.db.UTCDateTime(), nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=False),
        sa.Column("followed_up_at", storage.db.UTCDateTime(), nullable=True),
        sa.Column("answer", sa.String(length=10), nullable=True),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.Column("answered_at", storage.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentor_pairs")),
        sa.UniqueConstraint("round", "learner_id", name=op.f("uq_mentor_pairs_round")),
    )
    with op.batch_alter_table("mentor_pairs", schema=None) as batch_op:
        batch_op.create_index("ix_mentor_pairs_follow_up_on", ["follow_up_on", "followed_up_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_mentor_pairs_learner_id"), ["learner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mentor_pairs_mentor_id"), ["mentor_id"], unique=False)

    op.create_table(
        "mentor_skills",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=5), nullable=False),
        sa.Column("skill", sa.String(length=40), nullable=False),
        sa.Column("added_at", storage.db.UTCDateTime(), nullable=False),
        sa.Column("told_unmatched_at", storage.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "role", "skill", name=op.f("pk_mentor_skills")),
    )
    with op.batch_alter_table("mentor_skills", schema=None) as batch_op:
        batch_op.create_index("ix_mentor_skills_role_skill", ["role", "skill"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mentor_skills", schema=None) as batch_op:
        batch_op.drop_index("ix_mentor_skills_role_skill")

    op.drop_table("mentor_skills")
    with op.batch_alter_table("mentor_pairs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentor_pairs_mentor_id"))
        batch_op.drop_index(batch_op.f("ix_mentor_pairs_learner_id"))
        batch_op.drop_index("ix_mentor_pairs_follow_up_on")

    op.drop_table("mentor_pairs")
