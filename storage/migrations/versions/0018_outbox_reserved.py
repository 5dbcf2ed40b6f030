"""outbox reserved: a job's fan-out is left to the process sending it, until then

Revision ID: 0018_outbox_reserved
Revises: 0017_pace
"""

import sqlalchemy as sa
from alembic import op

import storage.db

revision = "0018_outbox_reserved"
down_revision = "0017_pace"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("reserved_until", storage.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("reserved_until")
