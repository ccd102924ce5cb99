"""The expression des besoins (EDB) built from the study itself.

CNIL MR-007 defines the EDB as the document giving the SNDS components, the target
population, the targeting period, the data or categories of data, the historical depth and
the access duration. Here every line of it is *derived*: the tables, columns and years the
cohort plans read (the same listing as ``sndskit cohort sql --inputs``) plus the analysis
variables of the study, each line carrying why it is there (a cohort step or an objective).
Potentially identifying variables are flagged from the catalogue whether or not the study
declared them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from rapidfuzz import process
from sqlglot import exp

from sndskit.access.rules import identifying_columns
from sndskit.access.spec import Study
from sndskit.catalog import Catalog, TableInfo, get_catalog, instantiate
from sndskit.catalog.names import is_year_templated
from sndskit.codelists.model import Codelist
from sndskit.cohorts import CohortPlan, CohortSpec, describe_cohort, plan_cohort, resolve_codelists
from sndskit.cohorts.context import add_months
from sndskit.errors import SndskitError, UnknownNameError
from sndskit.specs import load_spec

DEFAULT_FLUX_LAG_MONTHS = 6  # primer §3: 99 % of care arrives within 6 months
PERSON_TABLE = "IR_BEN_R"  # primer §2: persons are counted on IR_BEN_R.BEN_IDT_ANO


@dataclass(frozen=True)
class Reason:
    """Why a variable is requested: a cohort step that reads it, or an objective."""

    kind: str  # "cohort", "objective" or "link" (keys tying an analysis table to the person)
    ref: str  # cohort name, objective id, or the analysis table linked
    detail: str  # step name and comment, the justification, or the join path


@dataclass
class EdbVariable:
    table: str
    column: str
    label: str
    identifier: str | None  # kind of potential identifier, from the catalogue list
    reasons: list[Reason] = field(default_factory=list)

    @property
    def objectives(self) -> list[str]:
        return sorted({r.ref for r in self.reasons if r.kind == "objective"})

    @property
    def cohorts(self) -> list[str]:
        return sorted({r.ref for r in self.reasons if r.kind == "cohort"})


@dataclass
class EdbTable:
    name: str  # catalogue template (T_MCOaaB), never a yearly name
    title: str
    component: str  # the catalogue's product (DCIR, PMSI MCO, BENEFICIAIRE …)
    yearly: bool
    by_flux: bool
    years: set[int] = field(default_factory=set)
    flux: tuple[date, date] | None = None
    variables: dict[str, EdbVariable] = field(default_factory=dict)

    def widen_flux(self, window: tuple[date, date]) -> None:
        if self.flux is None:
            self.flux = window
        else:
            self.flux = (min(self.flux[0], window[0]), max(self.flux[1], window[1]))

    def physical_names(self) -> list[str]:
        return (
            [instantiate(self.name, y) for y in sorted(self.years)] if self.yearly else [self.name]
        )


@dataclass
class EdbCohort:
    name: str
    type: str
    path: Path
    description: str  # `cohort describe` (French)
    codelists: dict[str, Codelist]
    plan: CohortPlan


@dataclass
class Edb:
    study: Study
    tables: dict[str, EdbTable]
    cohorts: list[EdbCohort]
    analysis_years: tuple[int, int]
    analysis_flux: tuple[date, date]
    requested: list[tuple[str, str]]  # (table, column) of each analysis variable, in order

    @property
    def spec(self):
        return self.study.spec

    def components(self) -> dict[str, list[EdbTable]]:
        out: dict[str, list[EdbTable]] = defaultdict(list)
        for table in sorted(self.tables.values(), key=lambda t: (t.component, t.name)):
            out[table.component].append(table)
        return dict(sorted(out.items()))

    def variables(self) -> list[EdbVariable]:
        return [v for t in self.components().values() for x in t for v in x.variables.values()]

    def identifying(self) -> dict[str, list[EdbVariable]]:
        """Potential identifiers requested, by kind (from the catalogue list)."""
        out: dict[str, list[EdbVariable]] = defaultdict(list)
        for variable in self.variables():
            if variable.identifier:
                out[variable.identifier].append(variable)
        return dict(out)

    def first_year(self) -> int:
        """The oldest year of data requested (PMSI table year, DCIR flux or care year)."""
        years = [y for t in self.tables.values() for y in t.years]
        years += [t.flux[0].year for t in self.tables.values() if t.flux]
        return min(years, default=self.analysis_years[0])

    def last_year(self) -> int:
        years = [y for t in self.tables.values() for y in t.years]
        years += [t.flux[1].year for t in self.tables.values() if t.flux]
        return max(years, default=self.analysis_years[1])


def _step_reasons(plan: CohortPlan) -> dict[tuple[str, str], list[str]]:
    """(physical table, column) → the plan steps that read it from that table."""
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for step in plan.steps:
        tables = {t.name for t in step.query.find_all(exp.Table)} & set(plan.reads)
        columns = {c.name for c in step.query.find_all(exp.Column)}
        for table in tables:
            for column in plan.reads[table]:
                if column in columns:
                    out[(table, column)].append(f"{step.name} — {step.comment}")
    return out


class _Builder:
    def __init__(self, study: Study, catalog: Catalog) -> None:
        self.study = study
        self.catalog = catalog
        self.tables: dict[str, EdbTable] = {}
        self.requested: list[tuple[str, str]] = []

    def table(self, info: TableInfo) -> EdbTable:
        if info.name not in self.tables:
            self.tables[info.name] = EdbTable(
                name=info.name,
                title=info.title,
                component=info.product,
                yearly=is_year_templated(info.name),
                by_flux=info.field("FLX_DIS_DTD") is not None,
            )
        return self.tables[info.name]

    def variable(self, table: EdbTable, info: TableInfo, column: str) -> EdbVariable:
        found = info.field(column)
        name = found.name if found else column
        if name not in table.variables:
            listed = identifying_columns().get(name.upper())
            table.variables[name] = EdbVariable(
                table=table.name,
                column=name,
                label=found.description if found else "",
                identifier=listed["kind"] if listed else None,
            )
        return table.variables[name]

    def cohort(self, index: int) -> EdbCohort:
        ref = self.study.spec.cohorts[index]
        path = Path(ref.spec)
        path = path if path.is_absolute() else self.study.base / path
        if not path.is_file():
            raise self.study.error(f"cohort spec not found: {path}", "cohorts", index, "spec")
        cohort = load_spec(path, CohortSpec)
        codelists = resolve_codelists(cohort, path.parent)
        plan = plan_cohort(cohort, codelists)
        steps = _step_reasons(plan)
        for physical, columns in plan.reads.items():
            info, name = self.catalog.resolve(physical)
            table = self.table(info)
            if name.year is not None:
                table.years.add(name.year)
            if table.by_flux:
                table.widen_flux(plan.flux_window)
            for column in columns:
                why = steps.get((physical, column)) or ["plan"]
                variable = self.variable(table, info, column)
                for detail in why:
                    reason = Reason("cohort", cohort.name, detail)
                    if reason not in variable.reasons:
                        variable.reasons.append(reason)
        return EdbCohort(cohort.name, ref.type, path, describe_cohort(cohort), codelists, plan)

    def analysis(self, index: int, years: tuple[int, int], flux: tuple[date, date]) -> None:
        requested = self.study.spec.variables[index]
        table_name, column = requested.variable.split(".")
        where = ("variables", index, "variable")
        try:
            info, name = self.catalog.resolve(table_name)
        except UnknownNameError as exc:
            raise self.study.error(exc.message, *where, hint=exc.hint) from None
        if info.field(column) is None:
            near = process.extract(column.upper(), [f.name for f in info.fields], limit=3)
            raise self.study.error(
                f"unknown variable {column!r} in table {info.name}",
                *where,
                hint=f"did you mean: {', '.join(m[0] for m in near)}?",
            )
        span = [name.year] if name.year else list(range(years[0], years[1] + 2))
        table = self._cover(info, span, flux)
        variable = self.variable(table, info, column)
        self.requested.append((table.name, variable.column))
        for objective in requested.objectives:
            variable.reasons.append(Reason("objective", objective, requested.justification))
        if not requested.objectives:  # kept so the review can flag it as unused
            variable.reasons.append(Reason("objective", "", requested.justification))
        self.link(info, span, flux)

    def _cover(self, info: TableInfo, years: list[int], flux: tuple[date, date]) -> EdbTable:
        table = self.table(info)
        if table.yearly:
            table.years.update(years)
        if table.by_flux:
            table.widen_flux(flux)
        return table

    def link(self, info: TableInfo, years: list[int], flux: tuple[date, date]) -> None:
        """The keys that tie an analysis variable to the person: each hop of the catalogue's
        join path to IR_BEN_R, for the same years (T_MCO24B is useless without T_MCO24C)."""
        if info.name == PERSON_TABLE:
            return
        try:
            hops = self.catalog.find_join_path(info.name, PERSON_TABLE)
        except SndskitError:
            return  # a reference table (drugs, establishments…): nothing ties it to a person
        route = " → ".join([info.name, *(h.right for h in hops)])
        for hop in hops:
            for side, columns in ((hop.left, hop.left_columns), (hop.right, hop.right_columns)):
                side_info = self.catalog.get_table(side)
                table = self._cover(side_info, years, flux)
                for column in columns:
                    variable = self.variable(table, side_info, column)
                    reason = Reason("link", info.name, route)
                    if reason not in variable.reasons:
                        variable.reasons.append(reason)


def analysis_window(study: Study, lag_months: int) -> tuple[tuple[int, int], tuple[date, date]]:
    """Years and DCIR flux months the analysis variables cover: from the historical depth
    before the targeting period to the end of follow-up (+ the flux lag, primer §3)."""
    spec = study.spec
    first = spec.targeting_period.start.year - spec.historical_depth_years
    last = spec.follow_up_end.year
    flux_end = add_months(spec.follow_up_end, lag_months + 1) - timedelta(days=1)
    return (first, last), (date(first, 1, 1), flux_end)


def build_edb(study: Study, catalog: Catalog | None = None) -> Edb:
    """The EDB of ``study``: cohorts' inputs plus analysis variables, with reasons.

    Errors (unknown table or variable, missing cohort file) name the study file and line.
    """
    builder = _Builder(study, catalog or get_catalog())
    cohorts = [builder.cohort(i) for i in range(len(study.spec.cohorts))]
    lag = max((c.plan.spec.snds.flux_lag_months for c in cohorts), default=None)
    years, flux = analysis_window(study, DEFAULT_FLUX_LAG_MONTHS if lag is None else lag)
    for index in range(len(study.spec.variables)):
        builder.analysis(index, years, flux)
    if not builder.tables:
        raise SndskitError("the study reads no table", file=study.path)
    return Edb(study, builder.tables, cohorts, years, flux, builder.requested)
