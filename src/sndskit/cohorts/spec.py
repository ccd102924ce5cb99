"""Cohort specifications: one readable YAML that compiles to SNDS SQL.

Example (``docs/cohorts.md`` documents every field)::

    name: t2d_treated
    description: Adults pharmacologically treated for type 2 diabetes
    period: {start: 2019-01-01, end: 2022-12-31}
    entry:
      events:
        - {source: drug_dispensing, codelist: t2d_drugs}
      occurrences: {at_least: 3, distinct_dates: true, within_days: 365}
      index: first
    inclusion:
      - {name: adult, age: {min: 18}}
    exclusion:
      - name: type 1 diabetes before index
        events: [{source: hospital_diagnosis, codelist: t1d, roles: [DP, DR, DAS]}]
        window: {start: -1825, end: 0}
    exit: {at: end_of_study}
    snds: {quality_filters: cnam, flux_lag_months: 6, finess_duplicates: finess_46}
"""

from __future__ import annotations

from datetime import date
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sndskit.snds.sources import SOURCES

SourceName = Literal[tuple(SOURCES)]  # the event-source registry (sndskit.snds.sources)
Role = Literal["DP", "DR", "DAS"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Spec):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"period end {self.end} is before its start {self.start}")
        return self


class Event(_Spec):
    """Events of one source whose code is in a code list (file or library name).

    ``roles`` and ``procedures_in`` apply to the sources that declare them (unset = the
    source's default); given to any other source, they are an error naming what applies.
    """

    source: SourceName
    codelist: str | None = None
    roles: list[Role] | None = None
    procedures_in: list[Literal["dcir", "pmsi"]] | None = None

    @model_validator(mode="after")
    def _fits_source(self) -> Self:
        source = SOURCES[self.source]
        if not source.takes_codelist and self.codelist:
            raise ValueError(f"{self.source} events take no code list")
        if source.takes_codelist and not self.codelist:
            raise ValueError(f"{self.source} events need a codelist")
        for option in ("roles", "procedures_in"):
            if getattr(self, option) is not None and option not in source.options:
                allowed = ["source", "codelist", *source.options]
                raise ValueError(
                    f"{option} does not apply to {self.source} events "
                    f"(fields of {self.source}: {', '.join(allowed)})"
                )
        return self

    def option(self, name: str) -> tuple[str, ...]:
        """An option's value: as given, else the source's default."""
        return SOURCES[self.source].option(self, name)


class Occurrences(_Spec):
    """How many qualifying events; with ``within_days``, counted in a sliding window."""

    at_least: int = Field(default=1, ge=1)
    distinct_dates: bool = True
    within_days: int | None = Field(default=None, ge=1)


class Entry(_Spec):
    events: list[Event] = Field(min_length=1)
    occurrences: Occurrences = Field(default_factory=Occurrences)
    index: Literal["first", "last", "all"] = "first"


class Window(_Spec):
    """Days relative to the index date, both ends included (negative = before)."""

    start: int
    end: int

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"window end {self.end} is before its start {self.start}")
        return self


class Count(_Spec):
    at_least: int | None = Field(default=None, ge=0)
    at_most: int | None = Field(default=None, ge=0)
    exactly: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one(self) -> Self:
        given = [k for k in ("at_least", "at_most", "exactly") if getattr(self, k) is not None]
        if len(given) > 1 and "exactly" in given:
            raise ValueError("exactly cannot be combined with at_least or at_most")
        if not given:
            raise ValueError("give at_least, at_most or exactly")
        return self


class Age(_Spec):
    min: int | None = Field(default=None, ge=0, le=130)
    max: int | None = Field(default=None, ge=0, le=130)


class Criterion(_Spec):
    """One inclusion or exclusion step: events in a window, an age band or a sex."""

    name: str
    events: list[Event] | None = None
    window: Window | None = None
    occurrences: Count = Field(default_factory=lambda: Count(at_least=1))
    age: Age | None = None
    sex: Literal["male", "female"] | None = None

    @model_validator(mode="after")
    def _kind(self) -> Self:
        kinds = [k for k in ("events", "age", "sex") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"criterion {self.name!r}: give exactly one of events, age, sex")
        if self.events is not None and self.window is None:
            raise ValueError(f"criterion {self.name!r}: events need a window (days around index)")
        return self


class Exit(_Spec):
    at: Literal["end_of_study", "death", "fixed_duration", "end_of_exposure"] = "end_of_study"
    days: int | None = Field(default=None, ge=1)
    gap_days: int | None = Field(default=None, ge=0)
    exposure_days: int = Field(default=30, ge=1, description="days covered by one dispensing")

    @model_validator(mode="after")
    def _params(self) -> Self:
        if self.at == "fixed_duration" and self.days is None:
            raise ValueError("fixed_duration needs days")
        if self.at == "end_of_exposure" and self.gap_days is None:
            raise ValueError("end_of_exposure needs gap_days")
        return self


class SndsHandling(_Spec):
    """SNDS-specific choices, each documented in docs/cohorts.md."""

    quality_filters: Literal["cnam", "scalpel", "minimal", "none"] = "cnam"
    flux_lag_months: int = Field(default=6, ge=0, le=27)
    finess_duplicates: Literal["finess_46", "finess_166", "none"] = "finess_46"
    exclude_fictitious_nir: bool = True
    cip7_until_year: int = Field(
        default=2007,
        ge=1990,
        le=2100,
        description="care years up to this one may carry only the CIP7 (PHA_PRS_IDE); later "
        "lines are matched on the CIP13 alone",
    )


class CohortSpec(_Spec):
    name: str
    description: str = ""
    author: str = ""
    version: str = "1.0"
    period: Period
    entry: Entry
    inclusion: list[Criterion] = Field(default_factory=list)
    exclusion: list[Criterion] = Field(default_factory=list)
    washout_days: int | None = Field(
        default=None, ge=1, description="no entry event in the days before index"
    )
    exit: Exit = Field(default_factory=Exit)
    snds: SndsHandling = Field(default_factory=SndsHandling)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        names = [c.name for c in [*self.inclusion, *self.exclusion]]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate criterion names: {', '.join(duplicates)}")
        if any(c.sex or c.age for c in self.exclusion):
            raise ValueError("age and sex belong in inclusion criteria")
        if self.exit.at == "end_of_exposure" and not any(
            SOURCES[e.source].drug for e in self.entry.events
        ):
            raise ValueError("end_of_exposure needs drug entry events")
        return self

    def all_events(self) -> list[Event]:
        events = list(self.entry.events)
        for criterion in [*self.inclusion, *self.exclusion]:
            events += criterion.events or []
        return events

    def lookaround_days(self) -> tuple[int, int]:
        """Days before the period start and after its end that criteria may read."""
        before = after = 0
        for criterion in [*self.inclusion, *self.exclusion]:
            if criterion.window:
                before = max(before, -criterion.window.start)
                after = max(after, criterion.window.end)
        if self.washout_days:
            before = max(before, self.washout_days)
        if self.entry.occurrences.within_days:
            after = max(after, self.entry.occurrences.within_days)
        return before, after
