"""idea impact: merged ideas, the impact of an implemented idea, status changes made by Kaizen

Revision ID: 0013_idea_impact
Revises: 0012_goals
"""

import sqlalchemy as sa
from alembic import op


revision = "0013_idea_impact"
down_revision = "0012_goals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("impact", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("measure_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("measure_before", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("measure_after", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("measure_unit", sa.String(length=30), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_ideas_merged_into_id_ideas"), "ideas", ["merged_into_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("idea_status_changes", schema=None) as batch_op:
        batch_op.alter_column("changed_by", existing_type=sa.String(length=32), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("idea_status_changes", schema=None) as batch_op:
        batch_op.alter_column("changed_by", existing_type=sa.String(length=32), nullable=False)
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_ideas_merged_into_id_ideas"), type_="foreignkey")
        batch_op.drop_column("measure_unit")
        batch_op.drop_column("measure_after")
        batch_op.drop_column("measure_before")
        batch_op.drop_column("measure_name")
        batch_op.drop_column("impact")
        batch_op.drop_column("merged_into_id")
