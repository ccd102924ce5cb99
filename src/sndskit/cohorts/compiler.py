"""Compile a cohort spec into a plan: named SQL steps (sqlglot), the attrition they define
and the tables, columns and years they read.

Steps are materialised one after the other by an engine (a table when several later steps
read it, else a view the engine inlines: :func:`~sndskit.engines.contract.choose_storage`)
or printed as one readable ``WITH`` query by :meth:`CohortPlan.to_sql`. SNDS knowledge comes
from :mod:`sndskit.snds`: identity steps, event sources (one module each), quality filters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlglot import exp

from sndskit.cohorts.context import CompileContext
from sndskit.cohorts.spec import CohortSpec, Criterion, Event
from sndskit.engines.contract import DIALECTS, PlanStep, choose_storage, to_sql
from sndskit.errors import SndskitError
from sndskit.snds import identity
from sndskit.snds.sources import SOURCES

__all__ = ["CohortPlan", "Compiler", "PlanStep", "compile_cohort"]


@dataclass
class CohortPlan:
    spec: CohortSpec
    steps: list[PlanStep]
    reads: dict[str, list[str]]
    years: list[int]
    flux_window: tuple[date, date]
    warnings: list[str] = field(default_factory=list)

    @property
    def final(self) -> str:
        return self.steps[-1].name

    def to_sql(self, dialect: str = "duckdb") -> str:
        """The whole plan as one ``WITH`` query, each step preceded by a comment."""
        if dialect not in DIALECTS:
            raise SndskitError(f"unknown dialect {dialect!r}", field="dialect", allowed=DIALECTS)
        parts = []
        for step in self.steps:
            query = for_oracle(step.query) if dialect == "oracle" else step.query
            body = to_sql(query, dialect, pretty=True).replace("\n", "\n  ")
            parts.append(f"-- {step.name}: {step.comment}\n{step.name} AS (\n  {body}\n)")
        return "WITH\n" + ",\n".join(parts) + f"\nSELECT * FROM {self.final}\n"


def for_oracle(query: exp.Expression) -> exp.Expression:
    """Oracle spellings sqlglot does not produce: date arithmetic in days, EXTRACT(YEAR),
    LIKE for a constant prefix, TO_DATE for date literals."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.DateDiff):
            return exp.paren(exp.Sub(this=node.this, expression=node.expression))
        if isinstance(node, exp.DateAdd):
            return exp.paren(exp.Add(this=node.this, expression=node.expression))
        if isinstance(node, exp.Year):
            return exp.Extract(this=exp.var("YEAR"), expression=node.this)
        if isinstance(node, exp.StartsWith) and isinstance(node.expression, exp.Literal):
            return exp.Like(
                this=node.this, expression=exp.Literal.string(node.expression.name + "%")
            )
        if (
            isinstance(node, exp.Cast)
            and node.is_type("date")
            and isinstance(node.this, exp.Literal)
        ):
            return exp.func("TO_DATE", node.this, exp.Literal.string("YYYY-MM-DD"))
        return node

    return query.transform(rewrite)


def _date(value: date | str) -> exp.Expression:
    text = value if isinstance(value, str) else value.isoformat()
    return exp.cast(exp.Literal.string(text), "DATE")


def _add_days(expression: exp.Expression, days: int) -> exp.Expression:
    """A DATE (DuckDB's date + interval is a timestamp; Spark's date_add a date)."""
    shifted = exp.DateAdd(this=expression, expression=exp.Literal.number(days), unit=exp.var("DAY"))
    return exp.cast(shifted, "DATE")


def _days_between(later: exp.Expression, earlier: exp.Expression) -> exp.Expression:
    return exp.DateDiff(this=later, expression=earlier, unit=exp.var("DAY"))


def _union(parts: list[exp.Select]) -> exp.Expression:
    query: exp.Expression = parts[0]
    for part in parts[1:]:
        query = exp.union(query, part, distinct=False)
    return query


class Compiler:
    def __init__(self, ctx: CompileContext) -> None:
        self.ctx = ctx
        self.spec = ctx.spec
        self.steps: list[PlanStep] = []
        self._event_steps: dict[str, str] = {}

    def add(
        self, name: str, comment: str, query: exp.Expression, attrition: str | None = None
    ) -> str:
        self.steps.append(PlanStep(name, comment, query, attrition))
        return name

    def add_step(self, step: PlanStep) -> str:
        self.steps.append(step)
        return step.name

    # -- persons ------------------------------------------------------------------------------
    def persons(self) -> None:
        """The identity steps (sndskit.snds.identity); PMSI linkage is added on first use."""
        exclude = self.spec.snds.exclude_fictitious_nir
        self.add_step(identity.pseudonyms(self.ctx, exclude_fictitious=exclude))
        self.add_step(identity.nir_person())
        persons = identity.persons()
        persons.attrition = "persons in the beneficiary table"
        self.add_step(persons)

    def _link_pmsi(self, parts: list[exp.Select]) -> None:
        """Add the PMSI linkage step, once, before the first step that reads it."""
        reads = any(t.name == "pmsi_person" for part in parts for t in part.find_all(exp.Table))
        if reads and not any(step.name == "pmsi_person" for step in self.steps):
            self.add_step(identity.pmsi_person())

    # -- events -------------------------------------------------------------------------------
    def event_step(self, event: Event) -> str:
        """One step per distinct event: the source's rows as (person_id, event_date, code,
        source), built by the source module of the registry."""
        key = event.model_dump_json()
        if key in self._event_steps:
            return self._event_steps[key]
        source = SOURCES[event.source]
        codes = self.ctx.codes.get(event.codelist or "", {})
        if source.takes_codelist and not any(codes.values()):
            raise SndskitError(
                f"code list {event.codelist!r} has no code for {event.source}", field="codelist"
            )
        parts = source.build(self.ctx, event, codes)
        if not parts:
            years = (
                f"{self.ctx.pmsi_years[0]}-{self.ctx.pmsi_years[-1]}" if self.ctx.pmsi_years else ""
            )
            raise SndskitError(
                f"no table of the data holds {event.source} events",
                field="source",
                hint=f"PMSI needs T_MCOaaB and T_MCOaaC for years {years}; DCIR its detail table "
                "and ER_PRS_F",
            )
        self._link_pmsi(parts)
        name = f"events_{len(self._event_steps) + 1}"
        label = f"{event.source}" + (f" in code list {event.codelist}" if event.codelist else "")
        self._event_steps[key] = self.add(
            name, label, _union([_project(p, event.source) for p in parts])
        )
        return name

    # -- entry ----------------------------------------------------------------------------------
    def entry(self) -> str:
        """Entry events → persons with one in the period → the occurrence rule → the index."""
        self._entry_events()
        self._entry_days()
        qualifying, rule = self._qualifying()
        return self.add(
            "entry",
            f"index date = {self.spec.entry.index} qualifying event ({rule})",
            self._index(qualifying),
            attrition=f"entry rule met: {rule}, index = {self.spec.entry.index}",
        )

    def _entry_events(self) -> None:
        spec = self.spec
        parts = [exp.select("*").from_(self.event_step(e)) for e in spec.entry.events]
        self.add("entry_events", "every entry event, all sources", _union(parts))
        self.add(
            "with_entry_event",
            "persons with an entry event in the period",
            exp.select(
                "e.person_id", exp.alias_(exp.Min(this=exp.column("event_date", "e")), "first_date")
            )
            .from_(exp.to_table("entry_events").as_("e"))
            .join(exp.to_table("persons").as_("p"), on="p.person_id = e.person_id")
            .where(
                exp.column("event_date", "e").between(
                    _date(spec.period.start), _date(spec.period.end)
                )
            )
            .group_by("e.person_id"),
            attrition="with an entry event in the period",
        )

    def _entry_days(self) -> None:
        """Entry events (one per day with ``distinct_dates``), each with the date of the
        ``at_least``-th event from it on (``nth_date``)."""
        occ = self.spec.entry.occurrences
        days = (
            exp.select(
                "person_id",
                "event_date",
                exp.alias_(exp.Min(this=exp.column("code")), "code"),
                exp.alias_(exp.Min(this=exp.column("source")), "source"),
            )
            .from_("entry_events")
            .group_by("person_id", "event_date")
        )
        if not occ.distinct_dates:
            days = exp.select("person_id", "event_date", "code", "source").from_("entry_events")
        nth = exp.Window(
            this=exp.func("lead", exp.column("event_date"), exp.Literal.number(occ.at_least - 1)),
            partition_by=[exp.column("person_id")],
            order=exp.Order(expressions=[exp.Ordered(this=exp.column("event_date"))]),
        )
        self.add(
            "entry_days",
            "entry events per day" if occ.distinct_dates else "entry events",
            exp.select("*", exp.alias_(nth, "nth_date")).from_(days.subquery("d")),
        )

    def _qualifying(self) -> tuple[exp.Select, str]:
        """Entry days that meet the occurrence rule in the period, and the rule as text."""
        spec, occ = self.spec, self.spec.entry.occurrences
        qualifies = exp.column("nth_date").is_(exp.null()).not_()
        if occ.within_days:
            qualifies = exp.and_(
                qualifies,
                _days_between(exp.column("nth_date"), exp.column("event_date"))
                <= exp.Literal.number(occ.within_days),
            )
        rule = (
            f"≥ {occ.at_least} events"
            + (" on distinct dates" if occ.distinct_dates else "")
            + (f" within {occ.within_days} days" if occ.within_days else "")
        )
        qualifying = (
            exp.select("person_id", "event_date", "code", "source")
            .from_("entry_days")
            .where(qualifies)
            .where(
                exp.column("event_date").between(_date(spec.period.start), _date(spec.period.end))
            )
        )
        return qualifying, rule

    def _index(self, qualifying: exp.Select) -> exp.Select:
        """Index rows: every qualifying event, or the first/last one per person."""
        index = exp.select(
            "person_id",
            exp.alias_(exp.column("event_date"), "index_date"),
            exp.alias_(exp.column("code"), "entry_code"),
            exp.alias_(exp.column("source"), "entry_source"),
        )
        if self.spec.entry.index == "all":
            return index.from_(qualifying.subquery("q"))
        # one row per person: ROW_NUMBER is portable (DuckDB, Spark, Oracle)
        order = exp.Ordered(this=exp.column("event_date"), desc=self.spec.entry.index == "last")
        rank = exp.Window(
            this=exp.RowNumber(),
            partition_by=[exp.column("person_id")],
            order=exp.Order(expressions=[order, exp.Ordered(this=exp.column("code"))]),
        )
        ranked = exp.select("*", exp.alias_(rank, "rank")).from_(qualifying.subquery("q"))
        return index.from_(ranked.subquery("r")).where(exp.column("rank").eq(exp.Literal.number(1)))

    # -- criteria -------------------------------------------------------------------------------
    def washout(self, previous: str) -> str:
        days = self.spec.washout_days
        earlier = (
            exp.select("1")
            .from_(exp.to_table("entry_events").as_("w"))
            .where("w.person_id = i.person_id")
            .where(
                exp.column("event_date", "w").between(
                    _add_days(exp.column("index_date", "i"), -days),
                    _add_days(exp.column("index_date", "i"), -1),
                )
            )
        )
        return self.add(
            "washout",
            f"no entry event in the {days} days before index",
            exp.select("i.*")
            .from_(exp.to_table(previous).as_("i"))
            .where(exp.not_(exp.Exists(this=earlier))),
            attrition=f"no entry event in the {days} days before index (washout)",
        )

    def criterion(self, previous: str, criterion: Criterion, include: bool, number: int) -> str:
        name = f"{'include' if include else 'exclude'}_{number}"
        label = f"{'inclusion' if include else 'exclusion'}: {criterion.name}"
        base = exp.select("i.*").from_(exp.to_table(previous).as_("i"))
        if criterion.age is not None:
            age = exp.Sub(
                this=exp.func("year", exp.column("index_date", "i")),
                expression=exp.column("birth_year", "p"),
            )
            query = base.join(exp.to_table("persons").as_("p"), on="p.person_id = i.person_id")
            if criterion.age.min is not None:
                query = query.where(age >= exp.Literal.number(criterion.age.min))
            if criterion.age.max is not None:
                query = query.where(age.copy() <= exp.Literal.number(criterion.age.max))
            return self.add(
                name, f"{label} (age at index = index year − birth year)", query, attrition=label
            )
        if criterion.sex is not None:
            code = "1" if criterion.sex == "male" else "2"
            query = base.join(
                exp.to_table("persons").as_("p"), on="p.person_id = i.person_id"
            ).where(exp.column("sex", "p").eq(exp.Literal.string(code)))
            return self.add(name, f"{label} (BEN_SEX_COD = {code})", query, attrition=label)
        window = criterion.window
        parts = [
            exp.select("person_id", "event_date").from_(self.event_step(e))
            for e in criterion.events
        ]
        events_name = self.add(f"{name}_events", f"events of {label}", _union(parts))
        counted = (
            exp.select(
                "i.person_id",
                "i.index_date",
                exp.alias_(
                    exp.Count(this=exp.Distinct(expressions=[exp.column("event_date", "e")])), "n"
                ),
            )
            .from_(exp.to_table(previous).as_("i"))
            .join(
                exp.to_table(events_name).as_("e"),
                on=exp.and_(
                    exp.column("person_id", "e").eq(exp.column("person_id", "i")),
                    exp.column("event_date", "e").between(
                        _add_days(exp.column("index_date", "i"), window.start),
                        _add_days(exp.column("index_date", "i"), window.end),
                    ),
                ),
                join_type="left",
            )
            .group_by("i.person_id", "i.index_date")
        )
        n = exp.column("n", "c")
        count = criterion.occurrences
        conditions = []
        if count.exactly is not None:
            conditions.append(n.eq(exp.Literal.number(count.exactly)))
        if count.at_least is not None:
            conditions.append(n >= exp.Literal.number(count.at_least))
        if count.at_most is not None:
            conditions.append(n.copy() <= exp.Literal.number(count.at_most))
        meets = exp.and_(*conditions)
        query = base.join(
            counted.subquery("c"), on="c.person_id = i.person_id AND c.index_date = i.index_date"
        ).where(meets if include else exp.not_(meets))
        return self.add(
            name,
            f"{label}: {_count_text(count)} events in days "
            f"[{window.start}, {window.end}] around index",
            query,
            attrition=label,
        )

    # -- exit -----------------------------------------------------------------------------------
    def exit(self, previous: str) -> str:
        spec, out = self.spec, self.spec.exit
        end = _date(spec.period.end)
        death = exp.column("death_date", "p")
        candidates = [end, exp.func("coalesce", death, end)]
        reason = exp.Case(
            ifs=[
                exp.If(
                    this=exp.and_(death.is_(exp.null()).not_(), death <= end.copy()),
                    true=exp.Literal.string("death"),
                )
            ],
            default=exp.Literal.string("end_of_study"),
        )
        query = (
            exp.select(
                "i.person_id",
                "i.index_date",
                "i.entry_code",
                "i.entry_source",
                "p.sex",
                "p.birth_year",
            )
            .from_(exp.to_table(previous).as_("i"))
            .join(exp.to_table("persons").as_("p"), on="p.person_id = i.person_id")
        )
        if out.at == "fixed_duration":
            planned = _add_days(exp.column("index_date", "i"), out.days)
            candidates.append(planned)
        elif out.at == "end_of_exposure":
            exposure = self._exposure_end(previous)
            query = query.join(
                exp.to_table(exposure).as_("x"),
                on="x.person_id = i.person_id AND x.index_date = i.index_date",
                join_type="left",
            )
            planned = exp.func("coalesce", exp.column("exposure_end", "x"), end.copy())
            candidates.append(planned)
        exit_date = exp.func("least", *candidates)
        if out.at in ("fixed_duration", "end_of_exposure"):
            reason = exp.Case(
                ifs=[
                    exp.If(
                        this=exp.and_(
                            death.is_(exp.null()).not_(), death.copy() <= exit_date.copy()
                        ),
                        true=exp.Literal.string("death"),
                    ),
                    exp.If(this=planned.copy() < end.copy(), true=exp.Literal.string(out.at)),
                ],
                default=exp.Literal.string("end_of_study"),
            )
        query = query.select(
            exp.alias_(exit_date, "exit_date"),
            exp.alias_(reason, "exit_reason"),
            exp.alias_(
                exp.Sub(
                    this=exp.func("year", exp.column("index_date", "i")),
                    expression=exp.column("birth_year", "p"),
                ),
                "age_at_index",
            ),
        )
        return self.add(
            "cohort",
            f"exit at {out.at} (death always ends follow-up)",
            query.where(exp.column("index_date", "i") <= exit_date.copy()),
        )

    def _exposure_end(self, previous: str) -> str:
        out = self.spec.exit
        allowed = out.exposure_days + out.gap_days
        drugs = [
            exp.select("person_id", "event_date").from_(self.event_step(e))
            for e in self.spec.entry.events
            if SOURCES[e.source].drug
        ]
        order = exp.Order(expressions=[exp.Ordered(this=exp.column("event_date", "d"))])
        following = exp.Window(
            this=exp.func("lead", exp.column("event_date", "d")),
            partition_by=[exp.column("person_id", "i"), exp.column("index_date", "i")],
            order=order,
        )
        after = (
            exp.select(
                "i.person_id", "i.index_date", "d.event_date", exp.alias_(following, "next_date")
            )
            .from_(exp.to_table(previous).as_("i"))
            .join(
                _union(drugs).subquery("d"),
                on="d.person_id = i.person_id AND d.event_date >= i.index_date",
            )
        )
        breaks = exp.or_(
            exp.column("next_date").is_(exp.null()),
            _days_between(exp.column("next_date"), exp.column("event_date"))
            > exp.Literal.number(allowed),
        )
        query = (
            exp.select(
                "person_id",
                "index_date",
                exp.alias_(
                    _add_days(exp.Min(this=exp.column("event_date")), out.exposure_days),
                    "exposure_end",
                ),
            )
            .from_(after.subquery("a"))
            .where(breaks)
            .group_by("person_id", "index_date")
        )
        return self.add(
            "exposure",
            f"end of the first exposure episode after index ({out.exposure_days} days "
            f"per dispensing, gap ≤ {out.gap_days} days)",
            query,
        )

    # -- whole plan ------------------------------------------------------------------------------
    def compile(self) -> CohortPlan:
        self.persons()
        current = self.entry()
        if self.spec.washout_days:
            current = self.washout(current)
        for number, criterion in enumerate(self.spec.inclusion, start=1):
            current = self.criterion(current, criterion, True, number)
        for number, criterion in enumerate(self.spec.exclusion, start=1):
            current = self.criterion(current, criterion, False, number)
        self.exit(current)
        choose_storage(self.steps, self.steps[-1].name)
        reads = self.ctx.sorted_reads()
        years = sorted(
            {int(t[5:7]) + 2000 for t in reads if t.startswith("T_MCO") and t[5:7].isdigit()}
        )
        return CohortPlan(self.spec, self.steps, reads, years, (self.ctx.flux_lo, self.ctx.flux_hi))


def _project(query: exp.Select, source: str) -> exp.Select:
    """Every event source as (person_id, event_date, code, source)."""
    return exp.select(
        "person_id", "event_date", "code", exp.alias_(exp.Literal.string(source), "source")
    ).from_(query.subquery("s"))


def _count_text(count) -> str:
    if count.exactly is not None:
        return f"exactly {count.exactly}"
    parts = []
    if count.at_least is not None:
        parts.append(f"at least {count.at_least}")
    if count.at_most is not None:
        parts.append(f"at most {count.at_most}")
    return " and ".join(parts)


def compile_cohort(ctx: CompileContext) -> CohortPlan:
    return Compiler(ctx).compile()
