"""Staging steps: persons and clinical events read by the SNDS layer's own queries.

Persons (``pseudonyms``, ``nir_person``, ``persons``, ``pmsi_person``) come from the cohort
compiler (:mod:`sndskit.snds.identity`); drug, hospital-drug, procedure (DCIR part) and
biology events from the event-source registry :data:`sndskit.snds.sources.SOURCES` (9-key
join, information lines, ETE_IND_TAA, BSE_PRS_NAT, netting of regularisations, archive
generations); diagnoses (DP/DR/DAS), ALD and deaths from the same registry (FINESS
duplicates, error GHMs, session stays, return codes: :mod:`sndskit.snds.filters`). Those
queries filter on a code list; the ETL passes a sentinel list that :func:`every_code` turns
into "every code". Only hospital stays and DCIR visits are queried here, with the same
named filters (:func:`~sndskit.snds.filters.filter_predicates`) and key joins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlglot import exp

from sndskit.catalog.names import instantiate
from sndskit.cohorts.compiler import Compiler
from sndskit.cohorts.context import CompileContext
from sndskit.cohorts.spec import CohortSpec, Entry, Event, Period, SndsHandling
from sndskit.omop.etl.sql import ALL_CODES, date_literal, every_code, literal, union_all
from sndskit.snds.facts import FLUX_KEYS, STAY_KEYS
from sndskit.snds.filters import filter_predicates, not_in_nullsafe
from sndskit.snds.sources import SOURCES

EVENT_COLUMNS = {
    "dcir": (
        ("person_id", "VARCHAR"),
        ("event_date", "DATE"),
        ("code", "VARCHAR"),
        ("quantity", "DOUBLE"),
        ("records", "BIGINT"),
    ),
    "pmsi": (
        ("person_id", "VARCHAR"),
        ("event_date", "DATE"),
        ("code", "VARCHAR"),
        ("role", "VARCHAR"),
    ),
}
DCIR_SOURCES = {  # staging step → (event source, vocabulary, detail table)
    "etl_drug_cip13": ("drug_dispensing", "CIP13", "ER_PHA_F"),
    "etl_drug_ucd": ("hospital_drug", "UCD", "ER_UCD_F"),
    "etl_procedure_dcir": ("procedure", "CCAM", "ER_CAM_F"),
    "etl_biology": ("biology", "NABM", "ER_BIO_F"),
}


@dataclass
class Step:
    name: str
    comment: str
    query: exp.Expression


@dataclass
class Staging:
    ctx: CompileContext
    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, name: str, comment: str, query: exp.Expression) -> None:
        self.steps.append(Step(name, comment, query))


def compile_context(
    schema: dict[str, dict[str, str]],
    pmsi_years: list[int],
    *,
    start: date,
    end: date,
    quality_filters: str,
    flux_lag_months: int,
    finess_duplicates: str,
) -> CompileContext:
    """The cohort engine's context over the whole extraction window, no code list."""
    spec = CohortSpec(
        name="omop_etl",
        period=Period(start=start, end=end),
        entry=Entry(events=[Event(source="death")]),
        snds=SndsHandling(
            quality_filters=quality_filters,
            flux_lag_months=flux_lag_months,
            finess_duplicates=finess_duplicates,
        ),
    )
    return CompileContext(spec=spec, codes={}, columns=schema, pmsi_years=pmsi_years)


def _empty(kind: str) -> exp.Select:
    columns = [exp.alias_(exp.cast(exp.null(), t), n) for n, t in EVENT_COLUMNS[kind]]
    return exp.select(*columns).where(exp.false())


def _events(parts: list[exp.Expression], kind: str) -> exp.Select:
    """Every part as one relation, rows without a code dropped."""
    if not parts:
        return _empty(kind)
    names = [n for n, _ in EVENT_COLUMNS[kind]]
    union = union_all([exp.select(*names).from_(every_code(p).subquery("e")) for p in parts])
    code = exp.column("code")
    return (
        exp.select(*names)
        .from_(union.subquery("u"))
        .where(code.is_(exp.null()).not_())
        .where(exp.func("trim", code.copy()).neq(literal("")))
    )


def build_staging(ctx: CompileContext) -> Staging:
    staging = Staging(ctx)
    compiler = Compiler(ctx)
    compiler.persons()
    compiler.pmsi_person()
    for step in compiler.steps:
        staging.add(step.name, step.comment, step.query)
    _dcir_steps(staging)
    _pmsi_steps(staging)
    _ald_and_death(staging)
    staging.add("etl_stays", "MCO stays after the PMSI filters", _stays(staging))
    staging.add("etl_procedure_pmsi", "CCAM acts of the kept stays, dated", _acts(staging))
    staging.add("etl_dcir_visits", "DCIR lines grouped into visits", _dcir_visits(staging))
    return staging


def _dcir_steps(staging: Staging) -> None:
    ctx = staging.ctx
    for name, (source, vocabulary, detail) in DCIR_SOURCES.items():
        parts: list[exp.Expression] = []
        if ctx.has(detail) and ctx.has("ER_PRS_F"):
            where = {"procedures_in": ["dcir"]} if source == "procedure" else {}
            event = Event(source=source, codelist="every code", **where)
            parts = SOURCES[source].build(ctx, event, {vocabulary: [ALL_CODES]})
        else:
            staging.warnings.append(f"{detail} or ER_PRS_F absent: no {vocabulary} records")
        staging.add(name, f"DCIR {vocabulary} events (every code, netted)", _events(parts, "dcir"))


def _pmsi_steps(staging: Staging) -> None:
    ctx = staging.ctx
    if not ctx.pmsi_years:
        staging.warnings.append("no PMSI MCO year (T_MCOaaB/T_MCOaaC): no hospital records")
    event = Event(source="hospital_diagnosis", codelist="every code", roles=["DP", "DR", "DAS"])
    codes = {"CIM10": [ALL_CODES]}
    diagnoses = SOURCES["hospital_diagnosis"].build(ctx, event, codes) if ctx.pmsi_years else []
    staging.add(
        "etl_diagnoses", "PMSI diagnoses DP, DR, DAS (every code)", _events(diagnoses, "pmsi")
    )


def _ald_and_death(staging: Staging) -> None:
    ctx = staging.ctx
    ald = []
    if ctx.has("IR_IMB_R"):
        event = Event(source="long_term_condition", codelist="every code")
        ald = SOURCES["long_term_condition"].build(ctx, event, {"CIM10": [ALL_CODES]})
    if not ald:
        staging.warnings.append("IR_IMB_R absent: no long-term condition (ALD) records")
    staging.add("etl_ald", "ALD registrations (exonerating motives)", _events(ald, "pmsi"))
    if ald:
        staging.add("etl_ald_periods", "end of each ALD registration", _ald_periods(ctx))
    parts = [every_code(p) for p in SOURCES["death"].build(ctx, Event(source="death"), {})]
    columns = [
        "person_id",
        "event_date",
        exp.alias_(exp.column("role"), "source"),
        exp.alias_(exp.cast(exp.null(), "VARCHAR"), "cause"),
    ]
    deaths = [exp.select(*columns).from_(p.subquery("d")) for p in parts]
    if ctx.has("KI_CCI_R"):
        ctx.use("KI_CCI_R", "BEN_IDT_ANO", "BEN_DCD_DTE")
        cause = (
            ctx.text("k", "KI_CCI_R", "DCD_CIM_COD")
            if _has(ctx, "KI_CCI_R", "DCD_CIM_COD")
            else exp.null()
        )
        deaths.append(
            exp.select(
                exp.alias_(exp.column("BEN_IDT_ANO", "k"), "person_id"),
                exp.alias_(ctx.as_date("k", "KI_CCI_R", "BEN_DCD_DTE"), "event_date"),
                exp.alias_(literal("KI_CCI_R"), "source"),
                exp.alias_(exp.cast(cause, "VARCHAR"), "cause"),
            )
            .from_(exp.to_table("KI_CCI_R").as_("k"))
            .where(ctx.as_date("k", "KI_CCI_R", "BEN_DCD_DTE").neq(date_literal("1600-01-01")))
        )
    else:
        staging.warnings.append("KI_CCI_R absent: deaths from IR_BEN_R and PMSI discharges only")
    staging.add(
        "etl_death_sources",
        "deaths from KI_CCI_R (causes), IR_BEN_R and MCO discharges SOR_MOD = 9",
        union_all(deaths),
    )


def _between(expression: exp.Expression, lo: date, hi: date) -> exp.Expression:
    return expression.between(date_literal(lo.isoformat()), date_literal(hi.isoformat()))


def _has(ctx: CompileContext, table: str, column: str) -> bool:
    return ctx.columns is None or column in ctx.columns.get(table, {})


def _optional_text(ctx: CompileContext, alias: str, table: str, column: str) -> exp.Expression:
    return ctx.text(alias, table, column) if _has(ctx, table, column) else exp.null()


def _stays(staging: Staging) -> exp.Expression:
    ctx = staging.ctx
    parts = []
    for year in ctx.pmsi_years or []:
        stays, patients = instantiate("T_MCOaaB", year), instantiate("T_MCOaaC", year)
        if not (ctx.has(stays) and ctx.has(patients)):
            continue
        ctx.use(patients, "EXE_SOI_DTD", "EXE_SOI_DTF")
        start = exp.cast(exp.column("EXE_SOI_DTD", "c"), "DATE")
        end = exp.Nullif(
            this=exp.cast(exp.column("EXE_SOI_DTF", "c"), "DATE"),
            expression=date_literal("1600-01-01"),
        )
        parts.append(
            exp.select(
                exp.column("person_id", "m"),
                exp.alias_(ctx.text("s", stays, "ETA_NUM"), "eta_num"),
                exp.alias_(ctx.text("s", stays, "RSA_NUM"), "rsa_num"),
                exp.alias_(literal(year), "year"),
                exp.alias_(start, "start_date"),
                exp.alias_(exp.func("coalesce", end, start.copy()), "end_date"),
                exp.alias_(_optional_text(ctx, "s", stays, "ENT_MOD"), "ent_mod"),
                exp.alias_(_optional_text(ctx, "s", stays, "SOR_MOD"), "sor_mod"),
                exp.alias_(_optional_text(ctx, "s", stays, "GRG_GHM"), "ghm"),
            )
            .from_(exp.to_table(stays).as_("s"))
            .join(
                exp.to_table(patients).as_("c"),
                on=ctx.keys_equal(("s", stays), ("c", patients), STAY_KEYS),
            )
            .join(
                exp.to_table("pmsi_person").as_("m"),
                on=exp.column("BEN_NIR_PSA", "m").eq(ctx.text("c", patients, "NIR_ANO_17")),
            )
            .where(
                *filter_predicates(ctx, "pmsi_stay", "hospital_diagnosis", stays),
                *filter_predicates(ctx, "pmsi_patient", "hospital_diagnosis", patients),
            )
            .where(
                start.copy().between(
                    date_literal(ctx.lo.isoformat()), date_literal(ctx.hi.isoformat())
                )
            )
        )
    if parts:
        return union_all(parts)
    names = (
        "person_id",
        "eta_num",
        "rsa_num",
        "year",
        "start_date",
        "end_date",
        "ent_mod",
        "sor_mod",
        "ghm",
    )
    types = (
        "VARCHAR",
        "VARCHAR",
        "VARCHAR",
        "INT",
        "DATE",
        "DATE",
        "VARCHAR",
        "VARCHAR",
        "VARCHAR",
    )
    return exp.select(
        *(exp.alias_(exp.cast(exp.null(), t), n) for n, t in zip(names, types, strict=True))
    ).where(exp.false())


def _detail_keys(ctx: CompileContext, table: str, alias: str) -> exp.Expression:
    """Distinct 9 flux keys of a detail table: a LEFT JOIN on them never multiplies lines."""
    ctx.use(table, *FLUX_KEYS)
    keys = [exp.column(k) for k in FLUX_KEYS]
    return (
        exp.select(*keys, exp.alias_(literal(1), "present")).from_(table).distinct().subquery(alias)
    )


def _cents(ctx: CompileContext, table: str, column: str) -> exp.Expression:
    """Sum of an amount in whole cents (exact, whatever the order of the sum); NULL when the
    column is absent. Regularisation lines carry negative amounts and net out."""
    if not _has(ctx, table, column):
        return exp.cast(exp.null(), "BIGINT")
    ctx.use(table, column)
    cents = exp.Round(this=exp.Mul(this=exp.column(column, "p"), expression=literal(100)))
    return exp.Sum(this=exp.cast(cents, "BIGINT"))


def _dcir_visits(staging: Staging) -> exp.Expression:
    """One row per (person, care date, executing provider, visit concept) with the DCIR
    quality filters of the preset; visits whose quantities net to ≤ 0 are dropped."""
    from sndskit.omop.etl.cdm import etl_concepts

    ctx, prs = staging.ctx, "ER_PRS_F"
    visit = etl_concepts()["visit"]
    if not ctx.has(prs):
        staging.warnings.append("ER_PRS_F absent: no DCIR visits")
        return exp.select(
            *(
                exp.alias_(exp.cast(exp.null(), t), n)
                for n, t in (
                    ("person_id", "VARCHAR"),
                    ("visit_date", "DATE"),
                    ("provider", "VARCHAR"),
                    ("specialty", "VARCHAR"),
                    ("visit_concept_id", "INT"),
                    ("lines", "BIGINT"),
                    ("paid_cents", "BIGINT"),
                    ("charge_cents", "BIGINT"),
                )
            )
        ).where(exp.false())
    day = ctx.as_date("p", prs, "EXE_SOI_DTD")
    ctx.use(prs, "FLX_DIS_DTD", "BEN_NIR_PSA", "BEN_RNG_GEM", "PRS_ACT_QTE")
    ifs = []
    query = exp.select().from_(exp.to_table(prs).as_("p"))
    for table, alias, concept in (("ER_PHA_F", "ph", "pharmacy"), ("ER_BIO_F", "bi", "laboratory")):
        if ctx.has(table):
            query = query.join(
                _detail_keys(ctx, table, alias),
                on=ctx.keys_equal((alias, table), ("p", prs), FLUX_KEYS),
                join_type="left",
            )
            ifs.append(
                exp.If(
                    this=exp.column("present", alias).is_(exp.null()).not_(),
                    true=literal(visit[concept]),
                )
            )
    if _has(ctx, prs, "PRS_NAT_REF"):
        natures = [literal(n) for n in etl_concepts()["teleconsultation_natures"]]
        ctx.use(prs, "PRS_NAT_REF")
        ifs.append(
            exp.If(
                this=exp.column("PRS_NAT_REF", "p").isin(*natures),
                true=literal(visit["telehealth"]),
            )
        )
    concept = (
        exp.Case(ifs=ifs, default=literal(visit["outpatient"]))
        if ifs
        else literal(visit["outpatient"])
    )
    provider = _optional_text(ctx, "p", prs, "PFS_EXE_NUM")
    specialty = _optional_text(ctx, "p", prs, "PSE_SPE_COD")
    query = (
        query.select(
            exp.column("person_id", "m"),
            exp.alias_(day, "visit_date"),
            exp.alias_(provider, "provider"),
            exp.alias_(exp.Min(this=specialty), "specialty"),
            exp.alias_(concept, "visit_concept_id"),
            exp.alias_(exp.Count(this=exp.Star()), "lines"),
            exp.alias_(_cents(ctx, prs, "BSE_REM_MNT"), "paid_cents"),
            exp.alias_(_cents(ctx, prs, "PRS_PAI_MNT"), "charge_cents"),
        )
        .join(
            exp.to_table("nir_person").as_("m"),
            on="m.BEN_NIR_PSA = p.BEN_NIR_PSA AND m.BEN_RNG_GEM = p.BEN_RNG_GEM",
        )
        .where(_between(exp.column("FLX_DIS_DTD", "p"), ctx.flux_lo, ctx.flux_hi))
        .where(_between(day.copy(), ctx.lo, ctx.hi))
        .group_by(exp.column("person_id", "m"), day.copy(), provider.copy(), concept.copy())
    )
    return _dcir_filters(ctx, query, prs)


def _acts(staging: Staging) -> exp.Expression:
    """CCAM acts of the kept stays (etl_stays: the PMSI filters applied), dated at the stay
    entry + ENT_DAT_DEL days (primer §5), with the stay's visit id."""
    from sndskit.omop.etl.sql import stable_id

    ctx, parts = staging.ctx, []
    for year in ctx.pmsi_years or []:
        table = instantiate("T_MCOaaA", year)
        if not ctx.has(table):
            continue
        ctx.use(table, "ENT_DAT_DEL")
        delay = exp.func("coalesce", exp.cast(exp.column("ENT_DAT_DEL", "a"), "INT"), literal(0))
        day = exp.cast(
            exp.DateAdd(this=exp.column("start_date", "s"), expression=delay, unit=exp.var("DAY")),
            "DATE",
        )
        stay = exp.and_(
            exp.column("eta_num", "s").eq(ctx.text("a", table, "ETA_NUM")),
            exp.column("rsa_num", "s").eq(ctx.text("a", table, "RSA_NUM")),
            exp.column("year", "s").eq(literal(year)),
        )
        code = ctx.text("a", table, "CDC_ACT")
        parts.append(
            exp.select(
                exp.column("person_id", "s"),
                exp.alias_(day, "event_date"),
                exp.alias_(code, "code"),
                exp.alias_(
                    stable_id(
                        literal("MCO"),
                        *(exp.column(k, "s") for k in ("eta_num", "rsa_num", "year")),
                    ),
                    "visit_occurrence_id",
                ),
            )
            .from_(exp.to_table(table).as_("a"))
            .join(exp.to_table("etl_stays").as_("s"), on=stay)
            .where(code.copy().is_(exp.null()).not_())
        )
    if parts:
        return union_all(parts)
    columns = (
        ("person_id", "VARCHAR"),
        ("event_date", "DATE"),
        ("code", "VARCHAR"),
        ("visit_occurrence_id", "BIGINT"),
    )
    return exp.select(*(exp.alias_(exp.cast(exp.null(), t), n) for n, t in columns)).where(
        exp.false()
    )


def _dcir_filters(ctx: CompileContext, query: exp.Select, prs: str) -> exp.Select:
    """The preset's DCIR filters on the lines of a visit (same names and predicates as the
    cohort engine's DCIR events)."""
    if ctx.on("dcir_information_lines"):
        ctx.use(prs, "DPN_QLF", "PRS_DPN_QLP")
        query = query.where(not_in_nullsafe(exp.column("DPN_QLF", "p"), [71]))
        query = query.where(not_in_nullsafe(exp.column("PRS_DPN_QLP", "p"), [71]))
    if ctx.on("dcir_no_nature"):
        ctx.use(prs, "BSE_PRS_NAT")
        query = query.where(not_in_nullsafe(exp.column("BSE_PRS_NAT", "p"), [0]))
    if ctx.on("dcir_private_hospital_taa") and ctx.has("ER_ETE_F"):
        ctx.use("ER_ETE_F", "ETE_IND_TAA")
        taa = (
            exp.select("1")
            .from_(exp.to_table("ER_ETE_F").as_("e"))
            .where(ctx.keys_equal(("e", "ER_ETE_F"), ("p", prs), FLUX_KEYS))
            .where(exp.column("ETE_IND_TAA", "e").eq(literal(1)))
        )
        query = query.where(exp.not_(exp.Exists(this=taa)))
    if ctx.on("dcir_regularisations"):
        query = query.having(exp.Sum(this=exp.column("PRS_ACT_QTE", "p")) > literal(0))
    return query


OPEN_END = "9999-12-31"


def _ald_periods(ctx: CompileContext) -> exp.Select:
    """Latest end per (person, start, code) of the ALD registrations; an end coded
    1600-01-01 or NULL (in force) gives 9999-12-31 (primer §5)."""
    ctx.use("IR_IMB_R", "IMB_ALD_DTF")
    end = exp.Nullif(
        this=ctx.as_date("t", "IR_IMB_R", "IMB_ALD_DTF"), expression=date_literal("1600-01-01")
    )
    start = ctx.as_date("t", "IR_IMB_R", "IMB_ALD_DTD")
    code = ctx.text("t", "IR_IMB_R", "MED_MTF_COD")
    return (
        exp.select(
            exp.column("person_id", "m"),
            exp.alias_(start, "event_date"),
            exp.alias_(code, "code"),
            exp.alias_(exp.Max(this=exp.func("coalesce", end, date_literal(OPEN_END))), "end_date"),
        )
        .from_(exp.to_table("IR_IMB_R").as_("t"))
        .join(
            exp.to_table("nir_person").as_("m"),
            on="m.BEN_NIR_PSA = t.BEN_NIR_PSA AND m.BEN_RNG_GEM = t.BEN_RNG_GEM",
        )
        .group_by(exp.column("person_id", "m"), start.copy(), code.copy())
    )
