"""What the compiler knows besides the spec: codes, the data's columns and types, the
quality filters of the preset, and the care-date, flux and PMSI-year windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sndskit.cohorts.spec import CohortSpec
from sndskit.snds.filters import get_preset
from sndskit.snds.schema import DataSchema


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, 1)


@dataclass(kw_only=True)
class CompileContext(DataSchema):
    """Codes per event, data schema (None = assume the catalogue types) and the windows."""

    spec: CohortSpec
    codes: dict[str, dict[str, list[str]]]  # code list ref → vocabulary → codes
    pmsi_years: list[int] | None = None

    def __post_init__(self) -> None:
        before, after = self.spec.lookaround_days()
        period = self.spec.period
        self.lo = period.start - timedelta(days=before)
        self.hi = period.end + timedelta(days=after)
        self.flux_lo = month_start(self.lo)
        self.flux_hi = add_months(self.hi, self.spec.snds.flux_lag_months + 1) - timedelta(days=1)
        get_preset(self.spec.snds.quality_filters)  # an unknown preset fails here, early
        if self.pmsi_years is None:
            self.pmsi_years = list(range(self.lo.year, self.hi.year + 2))
        else:
            self.pmsi_years = [y for y in self.pmsi_years if self.lo.year <= y <= self.hi.year + 1]
