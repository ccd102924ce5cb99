"""What the compiler knows besides the spec: codes, table columns and types, filters, dates."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources

import yaml
from sqlglot import exp

from sndskit.cohorts.spec import CohortSpec
from sndskit.errors import SndskitError

_STRING_TYPES = ("VARCHAR", "STRING", "TEXT", "CHAR")


@cache
def quality_filters() -> dict:
    path = resources.files("sndskit") / "resources" / "cohorts" / "quality_filters.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@cache
def finess_duplicates(name: str) -> tuple[str, ...]:
    """The geographic FINESS of AP-HP, AP-HM and HCL whose MCO stays were sent twice."""
    if name == "none":
        return ()
    column = {"finess_46": "in_list_46", "finess_166": "in_list_166"}[name]
    path = resources.files("sndskit") / "resources" / "snds" / "finess_duplicates.csv"
    with path.open(encoding="utf-8") as handle:
        return tuple(sorted(r["eta_num"] for r in csv.DictReader(handle) if r[column] == "1"))


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, 1)


@dataclass
class CompileContext:
    """Codes per event, data schema (None = assume the catalogue types) and the windows."""

    spec: CohortSpec
    codes: dict[str, dict[str, list[str]]]  # code list ref → vocabulary → codes
    columns: dict[str, dict[str, str]] | None = None  # table → column → SQL type
    pmsi_years: list[int] | None = None
    reads: dict[str, set[str]] = field(default_factory=dict)  # table → columns read

    def __post_init__(self) -> None:
        before, after = self.spec.lookaround_days()
        period = self.spec.period
        from datetime import timedelta

        self.lo = period.start - timedelta(days=before)
        self.hi = period.end + timedelta(days=after)
        self.flux_lo = month_start(self.lo)
        self.flux_hi = add_months(self.hi, self.spec.snds.flux_lag_months + 1) - timedelta(days=1)
        self.filters = set(quality_filters()["presets"][self.spec.snds.quality_filters])
        if self.pmsi_years is None:
            self.pmsi_years = list(range(self.lo.year, self.hi.year + 2))
        else:
            self.pmsi_years = [y for y in self.pmsi_years if self.lo.year <= y <= self.hi.year + 1]

    # -- schema ---------------------------------------------------------------------------
    def use(self, table: str, *columns: str) -> None:
        """Record what the plan reads (the access request lists exactly this)."""
        known = self.columns.get(table) if self.columns is not None else None
        if self.columns is not None and known is None:
            raise SndskitError(
                f"table {table} is needed by the cohort but absent from the data",
                field="data",
                allowed=sorted(self.columns),
            )
        for column in columns:
            if known is not None and column not in known:
                from rapidfuzz import process

                near = [m[0] for m in process.extract(column, list(known), limit=3)]
                raise SndskitError(
                    f"column {table}.{column} is needed but absent from the data",
                    field=f"{table}.{column}",
                    hint=f"closest: {', '.join(near)}",
                )
        self.reads.setdefault(table, set()).update(columns)

    def is_string(self, table: str, column: str) -> bool:
        if self.columns is None:
            return True  # the catalogue's storage types: identifiers and codes are strings
        kind = self.columns[table].get(column, "VARCHAR").upper()
        return kind.startswith(_STRING_TYPES)

    def as_date(self, alias: str, table: str, column: str) -> exp.Expression:
        """A column as DATE, cast only when the data holds it otherwise (a cast on a DATE
        column would stop the scan from skipping row groups by their min/max)."""
        self.use(table, column)
        col = exp.column(column, alias)
        if self.columns is not None and self.columns[table].get(column, "").upper() == "DATE":
            return col
        return exp.cast(col, "DATE")

    def is_boolean(self, table: str, column: str) -> bool:
        if self.columns is None:
            return False
        return self.columns[table].get(column, "").upper() in ("BOOLEAN", "BOOL")

    def text(self, alias: str, table: str, column: str) -> exp.Expression:
        """A column compared as text (cast only when the data holds it otherwise)."""
        self.use(table, column)
        col = exp.column(column, alias)
        return col if self.is_string(table, column) else exp.cast(col, "VARCHAR")

    def has(self, name: str) -> bool:
        return self.columns is None or name in self.columns

    def on(self, name: str) -> bool:
        return name in self.filters
