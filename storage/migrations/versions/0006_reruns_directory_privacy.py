"""forced job runs, the member directory, feedback request batches, private outbox payloads

Revision ID: 0006_reruns_directory_privacy
Revises: 0005_tips
"""

import sqlalchemy as sa
from alembic import op

revision = '0006_reruns_directory_privacy'
down_revision = '0005_tips'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('runs', sa.Integer(), server_default=sa.text('1'), nullable=False))
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_guest', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('is_guest')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_column('runs')
