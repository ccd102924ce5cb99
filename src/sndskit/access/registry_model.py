"""The project record of the registry and its SQL tables (schema of the latest revision).

Lists (controllers, objectives, domains, sources, components, publications) are stored as
JSON text so the same schema runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sndskit.access.spec import Organisation, Route

Outcome = Literal["favourable", "favourable_with_reservations", "unfavourable", "not_competent"]
LIST_FIELDS = (
    "controllers",
    "objectives",
    "medical_domains",
    "data_sources",
    "components",
    "publications",
)
STAGE_FIELDS = (
    "filed_on",
    "complete_on",
    "cesrees_opinion_on",
    "cesrees_outcome",
    "cnil_decision_on",
    "cnil_number",
    "agreement_signed_on",
    "data_delivered_on",
    "ended_on",
)


class ProjectRecord(BaseModel):
    """One project of the public directory, with the dates of each stage."""

    model_config = ConfigDict(extra="forbid")

    reference: str = Field(min_length=1, pattern=r"^\S+$")
    title: str = Field(min_length=1)
    route: Route
    controllers: list[Organisation] = Field(min_length=1)
    purpose: str = ""
    objectives: list[str] = Field(default_factory=list)
    medical_domains: list[str] = Field(default_factory=list)
    data_sources: list[str] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)
    population_size: int | None = Field(default=None, ge=0)
    depth_years: int | None = Field(default=None, ge=0)
    period_start: date | None = None
    period_end: date | None = None
    environment: str = ""
    filed_on: date | None = None
    complete_on: date | None = None
    cesrees_opinion_on: date | None = None
    cesrees_outcome: Outcome | None = None
    cnil_decision_on: date | None = None
    cnil_number: str = ""
    agreement_signed_on: date | None = None
    data_delivered_on: date | None = None
    ended_on: date | None = None
    results: str = ""
    publications: list[str] = Field(default_factory=list)
    version: int = Field(default=0, description="set by the registry; bumps on every change")

    @field_validator("*", mode="before")
    @classmethod
    def _fold_whitespace(cls, value: Any) -> Any:
        """Runs of whitespace become one space and control characters go: a list item never
        spans two lines of an export cell, every text fits a spreadsheet cell, and an import
        gives back exactly what was exported."""
        if isinstance(value, list):
            return [v for v in map(_fold, value) if v != ""]
        return _fold(value)

    def to_row(self) -> dict[str, Any]:
        row = self.model_dump(mode="json", exclude={"version"})
        for name in LIST_FIELDS:
            row[name] = json.dumps(row[name], ensure_ascii=False)
        for name, value in row.items():
            if name.endswith("_on") or name.startswith("period_"):
                row[name] = date.fromisoformat(value) if value else None
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ProjectRecord:
        data = {k: v for k, v in row.items() if k in cls.model_fields}
        for name in LIST_FIELDS:
            data[name] = json.loads(data.get(name) or "[]")
        return cls.model_validate(data)


def _fold(value: Any) -> Any:
    if isinstance(value, str):
        kept = "".join(c for c in value if c.isspace() or unicodedata.category(c) != "Cc")
        return " ".join(kept.split())
    if isinstance(value, dict):
        return {k: _fold(v) for k, v in value.items()}
    if isinstance(value, Organisation):
        return value.model_copy(update={"name": _fold(value.name)})
    return value


metadata = sa.MetaData()

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("reference", sa.String(64), nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("route", sa.String(16), nullable=False),
    sa.Column("controllers", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text, nullable=False, default=""),
    sa.Column("objectives", sa.Text, nullable=False),
    sa.Column("medical_domains", sa.Text, nullable=False, server_default="[]"),
    sa.Column("data_sources", sa.Text, nullable=False),
    sa.Column("components", sa.Text, nullable=False),
    sa.Column("population_size", sa.Integer),
    sa.Column("depth_years", sa.Integer),
    sa.Column("period_start", sa.Date),
    sa.Column("period_end", sa.Date),
    sa.Column("environment", sa.String(32), nullable=False, default=""),
    *(sa.Column(name, sa.Date) for name in STAGE_FIELDS if name.endswith("_on")),
    sa.Column("cesrees_outcome", sa.String(32)),
    sa.Column("cnil_number", sa.String(64), nullable=False, default=""),
    sa.Column("results", sa.Text, nullable=False, default=""),
    sa.Column("publications", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
)

changes = sa.Table(
    "project_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("changed_by", sa.String(128), nullable=False),
    sa.Column("field", sa.String(64), nullable=False),
    sa.Column("old_value", sa.Text),
    sa.Column("new_value", sa.Text),
)
