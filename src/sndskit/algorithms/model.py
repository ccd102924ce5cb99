"""The metadata of a catalogue algorithm (``algorithm.yaml``): a BOAS fiche made checkable.

Every text a user reads exists in French and English (:class:`Text`). Cross-field rules
encode what a status promises: a *validated* algorithm cites a validation on real data, a
*reviewed* one names its reviewers, a *deprecated* one says why. Validation evidence
computed on synthetic data is level 0 and says so.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
ALGORITHM_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_ORCID = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")

Status = Literal["draft", "reviewed", "validated", "deprecated"]
ObjectiveCategory = Literal["targeting", "cartography", "treatment", "comorbidity_score", "other"]
# Medical domains of the BOAS fiches (Health Data Hub); sndskit keeps the list closed so that
# fiches can be filtered. Names are the BOAS French labels, ASCII identifiers here.
MedicalDomain = Literal[
    "cardiologie",
    "neurologie",
    "endocrinologie_diabetologie",
    "pneumologie",
    "oncologie",
    "psychiatrie",
    "nephrologie",
    "infectiologie",
    "gynecologie_obstetrique",
    "pediatrie",
    "rhumatologie",
    "gastro_enterologie",
    "pharmacologie",
    "sante_publique",
    "autre",
]
Source = Literal["DCIR", "PMSI MCO", "IR_BEN_R", "IR_IMB_R", "KI_CCI_R", "EGB", "other"]
Grain = Literal["person", "person_index", "person_score"]
MetricName = Literal["sensitivity", "specificity", "ppv", "npv", "kappa"]
LEVELS = {
    0: "synthetic data only / données synthétiques uniquement",
    1: "face validity or expert review / validité apparente, revue d'experts",
    2: "agreement with published counts / concordance avec des effectifs publiés",
    3: "reference standard on a sample (medical records, registry) / étalon sur échantillon",
    4: "reference standard in several populations / étalon dans plusieurs populations",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """One user-facing text, French first."""

    fr: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Person(_Model):
    name: str = Field(min_length=1)
    affiliation: str = ""
    orcid: str | None = None

    @field_validator("orcid")
    @classmethod
    def _orcid(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not _ORCID.match(value) or _orcid_check(value[:-1]) != value[-1]:
            raise ValueError(f"{value!r} is not a valid ORCID (0000-0002-1825-0097 form)")
        return value


def _orcid_check(base: str) -> str:
    """ISO 7064 MOD 11-2 check character of an ORCID (digits without the last one)."""
    total = 0
    for char in base.replace("-", ""):
        total = (total + int(char)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


class Reference(_Model):
    citation: str = Field(min_length=1)
    doi: str | None = None
    url: str | None = None
    role: Literal["rule", "code_list", "validation", "background"] = "rule"

    @field_validator("doi")
    @classmethod
    def _doi(cls, value: str | None) -> str | None:
        if value is not None and not _DOI.match(value):
            raise ValueError(f"{value!r} is not a DOI (10.xxxx/…)")
        return value


class Objective(_Model):
    category: ObjectiveCategory
    text: Text


class Period(_Model):
    description: Text
    lookback_days: int = Field(default=0, ge=0)


class CohortRef(_Model):
    """One cohort spec of the folder; the algorithm's persons are the union of its cohorts."""

    spec: str = Field(pattern=r"^[A-Za-z0-9_./-]+\.ya?ml$")
    role: Text


class Metric(_Model):
    name: MetricName
    value: float = Field(ge=0, le=1)
    ci_low: float | None = Field(default=None, ge=0, le=1)
    ci_high: float | None = Field(default=None, ge=0, le=1)
    ci_method: Literal["wilson", "clopper_pearson", "wald", "reported"] | None = None

    @model_validator(mode="after")
    def _interval(self) -> Self:
        if (self.ci_low is None) != (self.ci_high is None):
            raise ValueError(f"{self.name}: give both ci_low and ci_high, or neither")
        if self.ci_low is not None and not self.ci_low <= self.value <= self.ci_high:
            raise ValueError(
                f"{self.name}: value {self.value} outside its interval "
                f"[{self.ci_low}, {self.ci_high}]"
            )
        if self.ci_low is not None and self.ci_method is None:
            raise ValueError(f"{self.name}: name the ci_method of the interval")
        return self


class Validation(_Model):
    """One piece of evidence about the algorithm's validity."""

    level: int = Field(ge=0, le=4)
    synthetic: bool = False
    method: Text
    reference_standard: Text
    population: Text
    metrics: list[Metric] = Field(default_factory=list)
    citation: Reference | None = None
    applies_to: Literal["this_algorithm", "related_definition"] = "this_algorithm"
    note: Text | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.synthetic and self.level != 0:
            raise ValueError("evidence from synthetic data is level 0")
        if not self.synthetic and self.level == 0:
            raise ValueError("level 0 is for synthetic data; real-data evidence is level 1-4")
        if not self.synthetic and self.citation is None:
            raise ValueError("real-data validation needs its citation")
        if self.applies_to == "related_definition" and self.note is None:
            raise ValueError("say in note how the validated definition differs from this one")
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError("a metric is given twice")
        return self


class SyntheticTruth(_Model):
    """Which planted truth of `sndskit synth generate` the algorithm targets (for validate).

    ``conditions``: persons with the condition during the period (onset before its end, not
    ended before its start); ``stays``: persons with a true stay of the condition, admitted
    in the period, of the given kinds.
    """

    kind: Literal["conditions", "stays"]
    condition: str = Field(min_length=1)
    start: date
    end: date
    stay_kinds: list[Literal["index", "follow_up", "event", "session"]] = Field(
        default_factory=lambda: ["index", "follow_up", "event"]
    )
    sex: Literal["male", "female"] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class ScoreComponent(_Model):
    """One weighted component of a per-person score: the persons of one cohort spec."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    spec: str
    weight: int = Field(ge=1)
    supersedes: list[str] = Field(
        default_factory=list,
        description="components not counted when this one is present (hierarchy)",
    )


class Score(_Model):
    components: list[ScoreComponent] = Field(min_length=1)

    @model_validator(mode="after")
    def _hierarchy(self) -> Self:
        ids = [c.id for c in self.components]
        if len(set(ids)) != len(ids):
            raise ValueError("a score component id is given twice")
        for component in self.components:
            unknown = sorted(set(component.supersedes) - set(ids))
            if unknown:
                raise ValueError(f"{component.id} supersedes unknown component(s): {unknown}")
        return self


class AlgorithmMeta(_Model):
    id: str
    version: str
    status: Status
    title: Text
    objective: Objective
    domains: list[MedicalDomain] = Field(min_length=1)
    population: Text
    period: Period
    sources: list[Source] = Field(min_length=1)
    cohorts: list[CohortRef] = Field(min_length=1)
    logic_intro: Text
    output: Grain = "person_index"
    score: Score | None = None
    validation: list[Validation] = Field(default_factory=list)
    synthetic_truth: SyntheticTruth | None = None
    limitations: list[Text] = Field(default_factory=list)
    unconfirmed_rules: list[Text] = Field(
        default_factory=list,
        description="rules of this algorithm no cited source confirms (shown in the fiche)",
    )
    derived_from: Text | None = None
    references: list[Reference] = Field(min_length=1)
    authors: list[Person] = Field(min_length=1)
    reviewers: list[Person] = Field(default_factory=list)
    licence: Literal["MPL-2.0", "MIT", "Apache-2.0", "CC-BY-4.0", "EUPL-1.2", "GPL-3.0-or-later"]
    repository: str | None = Field(default=None, description="URL of the public repository")
    deprecation: Text | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not ALGORITHM_ID.match(value):
            raise ValueError("use lower-case letters, digits and '_', starting with a letter")
        return value

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not SEMVER.match(value):
            raise ValueError(f"{value!r} is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)")
        return value

    @model_validator(mode="after")
    def _status(self) -> Self:
        if self.status == "validated" and not any(
            not v.synthetic and v.level >= 3 and v.applies_to == "this_algorithm"
            for v in self.validation
        ):
            raise ValueError(
                "a validated algorithm cites a real-data validation of this algorithm "
                "(level 3 or 4, applies_to: this_algorithm)"
            )
        if self.status in ("reviewed", "validated") and not self.reviewers:
            raise ValueError(f"status {self.status} needs at least one reviewer")
        if (self.status == "deprecated") != (self.deprecation is not None):
            raise ValueError("deprecation (why, and what replaces it) goes with status deprecated")
        specs = [c.spec for c in self.cohorts]
        if len(set(specs)) != len(specs):
            raise ValueError("a cohort spec is listed twice")
        if not any(r.role == "rule" for r in self.references):
            raise ValueError("cite at least one reference with role: rule (its source)")
        if (self.output == "person_score") != (self.score is not None):
            raise ValueError("output person_score goes with a score section, and only it")
        if self.score and {c.spec for c in self.score.components} != set(specs):
            raise ValueError("each cohort spec of a score is the spec of one component")
        return self


def semver_key(version: str) -> tuple[int, int, int]:
    """Sortable key of a semantic version.

    >>> sorted(["1.10.0", "1.2.0", "0.9.1"], key=semver_key)
    ['0.9.1', '1.2.0', '1.10.0']
    """
    match = SEMVER.match(version)
    if not match:
        raise ValueError(f"{version!r} is not a semantic version")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch
