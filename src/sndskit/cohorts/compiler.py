"""Compile a cohort spec into a plan: named SQL steps (sqlglot), the attrition they define
and the tables, columns and years they read.

Steps are materialised one after the other by the runner (DuckDB temp tables, Spark temp
views) or printed as one readable ``WITH`` query by :meth:`CohortPlan.to_sql`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlglot import exp

from sndskit.cohorts import events as ev
from sndskit.cohorts.context import CompileContext
from sndskit.cohorts.spec import CohortSpec, Criterion, Event
from sndskit.errors import SndskitError

VALID_CDI_NIR = ("00", "03", "04")  # primer §2: normal or provisional NIR; others fictitious
MISSING_DATE = "1600-01-01"  # primer §2
DIALECTS = ("duckdb", "spark", "oracle")


@dataclass
class PlanStep:
    name: str
    comment: str
    query: exp.Expression
    attrition: str | None = None  # label of the attrition row this step defines


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
            body = query.sql(dialect=dialect, pretty=True).replace("\n", "\n  ")
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

    # -- persons ------------------------------------------------------------------------------
    def persons(self) -> None:
        ctx = self.ctx
        ctx.use(
            "IR_BEN_R",
            "BEN_NIR_PSA",
            "BEN_RNG_GEM",
            "BEN_IDT_ANO",
            "BEN_SEX_COD",
            "BEN_NAI_ANN",
            "BEN_DCD_DTE",
        )
        death = exp.cast(exp.column("BEN_DCD_DTE", "b"), "DATE")
        rows = exp.select(
            "b.BEN_NIR_PSA",
            "b.BEN_RNG_GEM",
            exp.alias_(
                exp.func(
                    "coalesce",
                    exp.column("BEN_IDT_ANO", "b"),
                    exp.func(
                        "concat",
                        exp.column("BEN_NIR_PSA", "b"),
                        exp.cast(exp.column("BEN_RNG_GEM", "b"), "VARCHAR"),
                    ),
                ),
                "person_id",
            ),
            exp.alias_(ctx.text("b", "IR_BEN_R", "BEN_SEX_COD"), "sex"),
            exp.alias_(exp.cast(exp.column("BEN_NAI_ANN", "b"), "INT"), "birth_year"),
            exp.alias_(exp.Nullif(this=death, expression=_date(MISSING_DATE)), "death_date"),
        ).from_(exp.to_table("IR_BEN_R").as_("b"))
        if self.spec.snds.exclude_fictitious_nir:
            cdi = ctx.text("b", "IR_BEN_R", "BEN_CDI_NIR")
            rows = rows.where(
                exp.or_(
                    cdi.is_(exp.null()),
                    cdi.copy().isin(*(exp.Literal.string(v) for v in VALID_CDI_NIR)),
                )
            )
        self.add(
            "pseudonyms",
            "one row per pseudonym (BEN_NIR_PSA, BEN_RNG_GEM) → person BEN_IDT_ANO; "
            "fictitious NIR dropped",
            rows,
        )
        self.add(
            "nir_person",
            "DCIR linkage: pseudonym and rank → person",
            exp.select(
                "BEN_NIR_PSA",
                "BEN_RNG_GEM",
                exp.alias_(exp.Min(this=exp.column("person_id")), "person_id"),
            )
            .from_("pseudonyms")
            .group_by("BEN_NIR_PSA", "BEN_RNG_GEM"),
        )
        self.add(
            "persons",
            "one row per person: sex, birth year, death date (1600-01-01 = none)",
            exp.select(
                "person_id",
                exp.alias_(exp.Min(this=exp.column("sex")), "sex"),
                exp.alias_(exp.Min(this=exp.column("birth_year")), "birth_year"),
                exp.alias_(exp.Min(this=exp.column("death_date")), "death_date"),
            )
            .from_("pseudonyms")
            .group_by("person_id"),
            attrition="persons in the beneficiary table",
        )

    def pmsi_person(self) -> None:
        """PMSI linkage, added once, before the first step that reads the PMSI."""
        if any(step.name == "pmsi_person" for step in self.steps):
            return
        self.add(
            "pmsi_person",
            "PMSI linkage: NIR_ANO_17 → person (twins sharing a pseudonym cannot be told apart)",
            exp.select(
                "BEN_NIR_PSA", exp.alias_(exp.Min(this=exp.column("person_id")), "person_id")
            )
            .from_("pseudonyms")
            .group_by("BEN_NIR_PSA"),
        )

    # -- events -------------------------------------------------------------------------------
    def event_step(self, event: Event) -> str:
        key = event.model_dump_json()
        if key in self._event_steps:
            return self._event_steps[key]
        codes = self.ctx.codes.get(event.codelist or "", {})
        if event.source != "death" and not any(codes.values()):
            raise SndskitError(
                f"code list {event.codelist!r} has no code for {event.source}", field="codelist"
            )
        parts: list[exp.Select] = []
        if event.source in ("hospital_diagnosis", "death") or (
            event.source == "procedure" and "pmsi" in event.procedures_in
        ):
            self.pmsi_person()
        if event.source in ("drug_dispensing", "hospital_drug", "biology") or (
            event.source == "procedure" and "dcir" in event.procedures_in
        ):
            parts += [_project(p, event.source) for p in ev.dcir_events(self.ctx, event, codes)]
        if event.source == "procedure" and "pmsi" in event.procedures_in:
            parts += [
                _project(p, event.source)
                for p in ev.pmsi_procedure_events(self.ctx, codes.get("CCAM", []))
            ]
        if event.source == "hospital_diagnosis":
            parts += [
                _project(p, event.source)
                for p in ev.diagnosis_events(self.ctx, event, codes.get("CIM10", []))
            ]
        if event.source == "long_term_condition":
            parts.append(
                _project(ev.long_term_events(self.ctx, codes.get("CIM10", [])), event.source)
            )
        if event.source == "death":
            parts += [_project(p, "death") for p in ev.death_events(self.ctx)]
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
        name = f"events_{len(self._event_steps) + 1}"
        label = f"{event.source}" + (f" in code list {event.codelist}" if event.codelist else "")
        self._event_steps[key] = self.add(name, label, _union(parts))
        return name

    # -- entry ----------------------------------------------------------------------------------
    def entry(self) -> str:
        spec, occ = self.spec, self.spec.entry.occurrences
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
        order = exp.Window(
            this=None,
            partition_by=[exp.column("person_id")],
            order=exp.Order(expressions=[exp.Ordered(this=exp.column("event_date"))]),
        )
        nth = exp.Window(
            this=exp.func("lead", exp.column("event_date"), exp.Literal.number(occ.at_least - 1)),
            partition_by=[exp.column("person_id")],
            order=order.args["order"].copy(),
        )
        self.add(
            "entry_days",
            "entry events per day" if occ.distinct_dates else "entry events",
            exp.select("*", exp.alias_(nth, "nth_date")).from_(days.subquery("d")),
        )
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
        index = exp.select(
            "person_id",
            exp.alias_(exp.column("event_date"), "index_date"),
            exp.alias_(exp.column("code"), "entry_code"),
            exp.alias_(exp.column("source"), "entry_source"),
        )
        if spec.entry.index == "all":
            index = index.from_(qualifying.subquery("q"))
        else:  # one row per person: ROW_NUMBER is portable (DuckDB, Spark, Oracle)
            order = exp.Ordered(this=exp.column("event_date"), desc=spec.entry.index == "last")
            rank = exp.Window(
                this=exp.RowNumber(),
                partition_by=[exp.column("person_id")],
                order=exp.Order(expressions=[order, exp.Ordered(this=exp.column("code"))]),
            )
            ranked = exp.select("*", exp.alias_(rank, "rank")).from_(qualifying.subquery("q"))
            index = index.from_(ranked.subquery("r")).where(
                exp.column("rank").eq(exp.Literal.number(1))
            )
        return self.add(
            "entry",
            f"index date = {spec.entry.index} qualifying event ({rule})",
            index,
            attrition=f"entry rule met: {rule}, index = {spec.entry.index}",
        )

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
            if e.source in ("drug_dispensing", "hospital_drug")
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
        reads = {table: sorted(columns) for table, columns in sorted(self.ctx.reads.items())}
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
