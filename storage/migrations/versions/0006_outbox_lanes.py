"""outbox lanes: the messages of one channel, DM or Home tab are sent in order

Revision ID: 0006_outbox_lanes
Revises: 0005_tips
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_outbox_lanes"
down_revision = "0005_tips"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lane", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_outbox_messages_lane", ["lane", "status", "sent_at"], unique=False)
    # The lanes the code now writes: a message's channel (a user ID for a DM), a person's Home tab.
    field = "json_extract(payload, '$.{}')" if op.get_bind().dialect.name == "sqlite" else "(payload->>'{}')"
    op.execute(f"UPDATE outbox_messages SET lane = {field.format('channel')} WHERE method <> 'views.publish'")
    op.execute(f"UPDATE outbox_messages SET lane = 'home:' || {field.format('user_id')} WHERE method = 'views.publish'")


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_lane")
        batch_op.drop_column("lane")
