"""The study spec: one YAML file describing an SNDS project for its access request.

Example (``src/sndskit/resources/access/examples/study.yaml`` is a complete one)::

    title: Cardiovascular events of adults treated for type 2 diabetes
    controllers: [{name: Université X, type: university}]
    implementer: {name: Équipe Y, type: university}
    route: standard
    purpose: {category: research, public_interest: "…"}
    objectives: [{id: O1, text: "Incidence of acute coronary syndromes"}]
    cohorts: [{spec: ../cohorts/t2d_treated.yaml, objectives: [O1]}]
    variables:
      - {variable: IR_BEN_R.BEN_SEX_COD, justification: "adjustment", objectives: [O1]}
    targeting_period: {start: 2020-01-01, end: 2022-12-31}
    historical_depth_years: 1
    follow_up_end: 2023-12-31
    access_duration_years: 3
    schedule: {start: 2025-01-01, end: 2028-12-31}
    environment: hdh_platform
    filed_on: 2025-01-15

Objective references are not validated here on purpose: a variable whose objectives were
removed is a *minimisation finding* of the review (``sndskit access review``), not a
syntax error. Table and variable names are validated against the catalogue when the EDB
is built (they need the local store).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sndskit.errors import SndskitError
from sndskit.specs import _line_of, load_spec

Route = Literal["standard", "mr004", "mr005", "mr006", "mr007", "mr008", "egb_esnd"]
OrganisationType = Literal[
    "public_research",
    "university",
    "hospital",
    "agency",
    "industry",
    "association",
    "design_office",
    "other",
]
PurposeCategory = Literal[
    "research", "study", "evaluation", "surveillance", "health_product_safety", "public_policy"
]
IdentifierKind = Literal[
    "commune",
    "birth_month",
    "exact_care_dates",
    "exact_death_date",
    "commune_of_death",
    "death_cause",
]
_VARIABLE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\.[A-Za-z][A-Za-z0-9_]*$")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Span(_Spec):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Organisation(_Spec):
    name: str = Field(min_length=1)
    type: OrganisationType


class Purpose(_Spec):
    category: PurposeCategory
    description: str = ""
    public_interest: str = Field(default="", description="why the project serves the public")


class Objective(_Spec):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    text: str = Field(min_length=1)


class CohortRef(_Spec):
    """A cohort spec (path relative to the study file) that targets the population."""

    spec: str
    type: Literal["criteria", "direct_nir", "indirect_matching"] = "criteria"
    objectives: list[str] = Field(default_factory=list)


class Variable(_Spec):
    """An analysis variable: ``TABLE.COLUMN`` (``T_MCOaaB`` or ``T_MCO21B`` both work)."""

    variable: str
    justification: str = ""
    objectives: list[str] = Field(default_factory=list)

    @field_validator("variable")
    @classmethod
    def _shape(cls, value: str) -> str:
        if not _VARIABLE.match(value):
            raise ValueError(f"{value!r} is not TABLE.COLUMN")
        return value


class Identifier(_Spec):
    """A potentially identifying datum the project asks for, why, and how it could be coarser."""

    kind: IdentifierKind
    justification: str = ""
    degradation: str = Field(default="", description="coarser version considered")


class ExternalData(_Spec):
    name: str
    description: str = ""
    matching_keys: list[str] = Field(default_factory=list)


class User(_Spec):
    profile: str
    organisation: str = ""
    count: int = Field(default=1, ge=1)


class OutputPlan(_Spec):
    small_cell_threshold: int | None = Field(default=None, ge=1)
    description: str = ""


class StudySpec(_Spec):
    title: str = Field(min_length=1)
    reference: str = ""
    controllers: list[Organisation] = Field(min_length=1)
    implementer: Organisation
    design_office: Organisation | None = None
    route: Route
    purpose: Purpose
    objectives: list[Objective] = Field(min_length=1)
    cohorts: list[CohortRef] = Field(min_length=1)
    variables: list[Variable] = Field(default_factory=list)
    targeting_period: Span
    historical_depth_years: int = Field(ge=0, le=30)
    follow_up_end: date
    access_duration_years: float = Field(gt=0)
    schedule: Span
    environment: Literal["cnam_portal", "hdh_platform", "approved_system"]
    identifiers: list[Identifier] = Field(default_factory=list)
    external_data: list[ExternalData] = Field(default_factory=list)
    reuse_of_existing_data: bool = False
    users: list[User] = Field(default_factory=list)
    output_plan: OutputPlan = Field(default_factory=OutputPlan)
    filed_on: date = Field(default_factory=date.today)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        ids = [o.id for o in self.objectives]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate objective ids: {', '.join(duplicates)}")
        if self.follow_up_end < self.targeting_period.end:
            raise ValueError("follow_up_end is before the end of the targeting period")
        kinds = [i.kind for i in self.identifiers]
        if len(set(kinds)) != len(kinds):
            raise ValueError("each identifier kind is declared once")
        return self

    def objective_ids(self) -> set[str]:
        return {o.id for o in self.objectives}


@dataclass(frozen=True)
class Study:
    """A loaded study spec with where it came from (to point errors at lines)."""

    spec: StudySpec
    path: Path
    node: Any = None

    @property
    def base(self) -> Path:
        return self.path.parent

    def line(self, *loc: Any) -> int | None:
        return _line_of(self.node, loc) if self.node is not None else None

    def error(self, message: str, *loc: Any, **kwargs: Any) -> SndskitError:
        field = ".".join(str(p) for p in loc) or None
        return SndskitError(message, file=self.path, line=self.line(*loc), field=field, **kwargs)


def load_study(path: Path | str) -> Study:
    """Read and validate a study spec (errors name the file, the line and the field)."""
    path = Path(path)
    spec = load_spec(path, StudySpec)
    node = yaml.compose(path.read_text(encoding="utf-8"))
    return Study(spec=spec, path=path, node=node)
