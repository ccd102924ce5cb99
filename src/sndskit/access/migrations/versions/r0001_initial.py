"""Registry schema 1: projects and the dates of each stage.

Revision ID: r0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None

STAGE_DATES = (
    "filed_on",
    "complete_on",
    "cesrees_opinion_on",
    "cnil_decision_on",
    "agreement_signed_on",
    "data_delivered_on",
    "ended_on",
)


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(64), nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("route", sa.String(16), nullable=False),
        sa.Column("controllers", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("objectives", sa.Text, nullable=False),
        sa.Column("data_sources", sa.Text, nullable=False),
        sa.Column("components", sa.Text, nullable=False),
        sa.Column("population_size", sa.Integer),
        sa.Column("depth_years", sa.Integer),
        sa.Column("period_start", sa.Date),
        sa.Column("period_end", sa.Date),
        sa.Column("environment", sa.String(32), nullable=False),
        *(sa.Column(name, sa.Date) for name in STAGE_DATES),
        sa.Column("cesrees_outcome", sa.String(32)),
        sa.Column("cnil_number", sa.String(64), nullable=False),
        sa.Column("results", sa.Text, nullable=False),
        sa.Column("publications", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("projects")
