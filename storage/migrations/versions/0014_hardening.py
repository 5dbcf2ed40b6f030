"""hardening: withdrawn reaction kudos are kept (hidden); daily post counts; unmatched agents re-keyed

Revision ID: 0014_hardening
Revises: 0013_idea_impact
"""

import hashlib
import hmac
import secrets

import sqlalchemy as sa
from alembic import op

import storage.db

revision = "0014_hardening"
down_revision = "0013_idea_impact"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", storage.db.UTCDateTime(), nullable=True))
    op.create_table(
        "daily_post_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("poster_key", sa.String(length=64), nullable=False),
        sa.Column("posted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "poster_key", name=op.f("pk_daily_post_counts")),
    )
    _rekey_unmatched_agents()


def _rekey_unmatched_agents() -> None:
    """Unmatched agents were kept by the plain SHA-256 of their e-mail, which a staff directory
    reverses. The e-mails are gone, so they cannot get the new pseudonym (bot.core.pseudonym): each is
    re-keyed instead by an HMAC under a random key this migration forgets. They still group as before
    (the digest counts agents), can no longer be reversed, and match no new pseudonym."""
    compliments = sa.table("compliments", sa.column("agent_email_hash", sa.String(64)))
    connection = op.get_bind()
    old_hashes = connection.scalars(
        sa.select(compliments.c.agent_email_hash).where(compliments.c.agent_email_hash.is_not(None)).distinct()
    ).all()
    forgotten_key = secrets.token_bytes(32)
    for old in old_hashes:
        new = hmac.new(forgotten_key, old.encode(), hashlib.sha256).hexdigest()
        connection.execute(
            compliments.update().where(compliments.c.agent_email_hash == old).values(agent_email_hash=new)
        )


def downgrade() -> None:
    # The re-keyed pseudonyms stay as they are: the old hashes are what the upgrade meant to get rid of.
    op.drop_table("daily_post_counts")
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
