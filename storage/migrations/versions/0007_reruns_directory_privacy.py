"""forced job runs, the member directory, feedback request batches, private outbox payloads

Revision ID: 0007_reruns_directory_privacy
Revises: 0006_outbox_lanes
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_reruns_directory_privacy"
down_revision = "0006_outbox_lanes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("runs", sa.Integer(), server_default=sa.text("1"), nullable=False))
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_guest", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_key", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_feedback_batch_key", ["batch_key"], unique=False)
    # The requests one /feedback request made were written together: same requester, same moment.
    feedback = sa.table(
        "feedback",
        sa.column("batch_key", sa.String),
        sa.column("about_id", sa.String),
        sa.column("created_at", sa.String),
        sa.column("requested", sa.Boolean),
    )
    op.execute(
        feedback.update()
        .where(feedback.c.requested)
        .values(
            batch_key=sa.literal("before-batches:")
            + feedback.c.about_id
            + ":"
            + sa.cast(feedback.c.created_at, sa.String)
        )
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("private", sa.Boolean(), server_default=sa.false(), nullable=False))
    # The feedback DMs already written become private too: their text goes once delivered.
    outbox = sa.table(
        "outbox_messages",
        sa.column("key", sa.String),
        sa.column("status", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("result", sa.JSON),
        sa.column("private", sa.Boolean),
    )
    answers = outbox.c.key.like("feedback:%:answer")
    op.execute(outbox.update().where(answers).values(private=True))
    op.execute(outbox.update().where(answers, outbox.c.status == "sent").values(payload=outbox.c.result))
    op.execute(outbox.update().where(answers, outbox.c.status == "failed").values(payload={}))


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("private")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_batch_key")
        batch_op.drop_column("batch_key")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("is_guest")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_column("runs")
