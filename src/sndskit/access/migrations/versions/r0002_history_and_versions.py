"""Registry schema 2: medical domains, a version per project (no lost update) and the
history of every change (who changed what, when).

Revision ID: r0002
Revises: r0001
"""

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("medical_domains", sa.Text, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))
    op.create_table(
        "project_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(128), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("old_value", sa.Text),
        sa.Column("new_value", sa.Text),
    )
    # Projects that existed before the history: one "migrated" entry records their state.
    projects = sa.table("projects", sa.column("id", sa.Integer))
    rows = op.get_bind().execute(sa.select(projects.c.id)).fetchall()
    if rows:
        changes = sa.table(
            "project_changes",
            sa.column("project_id", sa.Integer),
            sa.column("version", sa.Integer),
            sa.column("changed_at", sa.DateTime(timezone=True)),
            sa.column("changed_by", sa.String),
            sa.column("field", sa.String),
            sa.column("old_value", sa.Text),
            sa.column("new_value", sa.Text),
        )
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        op.bulk_insert(
            changes,
            [
                {
                    "project_id": r[0],
                    "version": 1,
                    "changed_at": now,
                    "changed_by": "migration",
                    "field": "*",
                    "old_value": None,
                    "new_value": "schema r0002",
                }
                for r in rows
            ],
        )


def downgrade() -> None:
    op.drop_table("project_changes")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("version")
        batch.drop_column("medical_domains")
