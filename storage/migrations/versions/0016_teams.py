"""teams: teams with their leads, members and user groups; the user groups read from Slack; what
changed, in the admins' audit log

Revision ID: 0016_teams
Revises: 0015_correctness
"""

import sqlalchemy as sa
from alembic import op

import storage.db

revision = "0016_teams"
down_revision = "0015_correctness"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("name_key", sa.String(length=80), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", storage.db.UTCDateTime(), nullable=False),
        sa.Column("changed_at", storage.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name_key", name=op.f("uq_teams_name_key")),
    )
    op.create_table(
        "user_groups",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("handle", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("synced_at", storage.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_groups")),
    )
    op.create_table(
        "team_groups",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["user_groups.id"], name=op.f("fk_team_groups_group_id_user_groups")),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_groups_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "group_id", name=op.f("pk_team_groups")),
    )
    with op.batch_alter_table("team_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_groups_group_id"), ["group_id"], unique=False)
    for table in ("team_leads", "team_members"):
        op.create_table(
            table,
            sa.Column("team_id", sa.Integer(), nullable=False),
            sa.Column("user_id", sa.String(length=32), nullable=False),
            sa.ForeignKeyConstraint(
                ["team_id"], ["teams.id"], name=op.f(f"fk_{table}_team_id_teams"), ondelete="CASCADE"
            ),
            sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f(f"pk_{table}")),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_user_id"), ["user_id"], unique=False)
    op.create_table(
        "user_group_members",
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["user_groups.id"],
            name=op.f("fk_user_group_members_group_id_user_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_user_group_members")),
    )
    with op.batch_alter_table("user_group_members", schema=None) as batch_op:
        batch_op.create_index("ix_user_group_members_user_id_group_id", ["user_id", "group_id"], unique=False)
    with op.batch_alter_table("moderation_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("moderation_log", schema=None) as batch_op:
        batch_op.drop_column("detail")
    op.drop_table("user_group_members")
    op.drop_table("team_members")
    op.drop_table("team_leads")
    op.drop_table("team_groups")
    op.drop_table("user_groups")
    op.drop_table("teams")
