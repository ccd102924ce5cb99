"""Quality of a converted CDM: DataQualityDashboard-style checks and record-level mapping
coverage, run as SQL (sqlglot → DuckDB) on the written Parquet tables.

Check families (OHDSI DataQualityDashboard names and default thresholds, in %): isRequired,
isPrimaryKey, isForeignKey, fkDomain, isStandardValidConcept (these three need the
vocabulary database, else they are *not applicable*), standardConceptRecordCompleteness,
plausibleStartBeforeEnd, plausibleAfterBirth, plausibleBeforeDeath, plausibleValueLow/High,
and observation-period containment. Published counts go through :func:`publish_counts`.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import duckdb
from sqlglot import exp

from sndskit.disclosure import MASK
from sndskit.disclosure.tables import protect_table
from sndskit.omop.etl.cdm import cdm_fields
from sndskit.omop.etl.sql import literal

# table → (main concept field, source value field, date field, end date field)
EVENT_TABLES = {
    "visit_occurrence": ("visit_concept_id", "visit_source_value", "visit_start_date",
                         "visit_end_date"),
    "condition_occurrence": ("condition_concept_id", "condition_source_value",
                             "condition_start_date", "condition_end_date"),
    "drug_exposure": ("drug_concept_id", "drug_source_value", "drug_exposure_start_date",
                      "drug_exposure_end_date"),
    "procedure_occurrence": ("procedure_concept_id", "procedure_source_value",
                             "procedure_date", None),
    "measurement": ("measurement_concept_id", "measurement_source_value", "measurement_date",
                    None),
    "death": ("cause_concept_id", "cause_source_value", "death_date", None),
    "observation_period": (None, None, "observation_period_start_date",
                           "observation_period_end_date"),
}  # fmt: skip
# DataQualityDashboard's values for the fields the ETL fills
PLAUSIBLE = {
    ("person", "year_of_birth"): (1850, date.today().year),
    ("drug_exposure", "quantity"): (0.0000001, 1095),
    ("drug_exposure", "days_supply"): (1, 365),
}
THRESHOLDS = {
    "isRequired": 0,
    "isPrimaryKey": 0,
    "isForeignKey": 0,
    "fkDomain": 0,
    "isStandardValidConcept": 0,
    "standardConceptRecordCompleteness": 5,
    "plausibleStartBeforeEnd": 1,
    "plausibleAfterBirth": 1,
    "plausibleBeforeDeath": 1,
    "plausibleValueLow": 1,
    "plausibleValueHigh": 1,
    "withinObservationPeriod": 5,
}
DESCRIPTIONS = {  # French first (docs/omop_etl.md)
    "isRequired": ("champ obligatoire vide", "required field is NULL"),
    "isPrimaryKey": ("clé primaire en double", "duplicated primary key"),
    "isForeignKey": ("clé étrangère sans ligne liée", "foreign key without its row"),
    "fkDomain": ("concept hors du domaine attendu", "concept outside the expected domain"),
    "isStandardValidConcept": ("concept non standard ou invalide", "invalid or non-standard"),
    "standardConceptRecordCompleteness": ("enregistrements sans concept standard (0)",
                                          "records without a standard concept (0)"),
    "plausibleStartBeforeEnd": ("fin avant le début", "end before start"),
    "plausibleAfterBirth": ("date avant la naissance", "date before birth"),
    "plausibleBeforeDeath": ("date plus de 60 jours après le décès",
                             "date more than 60 days after death"),
    "plausibleValueLow": ("valeur sous le minimum plausible", "value below the plausible low"),
    "plausibleValueHigh": ("valeur au-dessus du maximum plausible", "value above plausible high"),
    "withinObservationPeriod": ("date hors de toute période d'observation",
                                "date outside every observation period"),
}  # fmt: skip
CHECK_LEVEL = {"isPrimaryKey": "FIELD", "withinObservationPeriod": "TABLE"}


def publish_counts(rows: list[dict], columns: list[str], threshold: int) -> list[dict]:
    """Counts that leave sndskit: each column protected by :mod:`sndskit.disclosure` (no
    margin of these counts is published), suppressed cells labelled ``masked``."""
    out = [dict(r) for r in rows]
    for column in columns:
        cells = [{"row": i, "n": r[column]} for i, r in enumerate(out)]
        masked, _ = protect_table(cells, keys=["row"], persons="n", threshold=threshold)
        for row, cell in zip(out, masked, strict=True):
            if cell["masked"]:
                row[column] = MASK
    return out


def _connect(out: Path, vocab_db: Path | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for table in cdm_fields():
        path = out / f"{table}.parquet"
        if path.exists():
            view = exp.Create(
                this=exp.to_table(table),
                kind="VIEW",
                expression=exp.select("*").from_(
                    exp.func("read_parquet", exp.Literal.string(str(path)))
                ),
            )
            con.execute(view.sql("duckdb"))
    if vocab_db is not None:
        attach = exp.Attach(
            this=exp.alias_(exp.Literal.string(str(vocab_db)), "vocab"),
            expressions=[exp.AttachOption(this=exp.var("READ_ONLY"))],
        )
        con.execute(attach.sql("duckdb"))
    return con


def _count(con, query: exp.Expression) -> int:
    return int(con.execute(query.sql("duckdb")).fetchone()[0] or 0)


def _rows(table: str) -> exp.Select:
    return exp.select(exp.Count(this=exp.Star())).from_(table)


def _violations(table: str, condition: exp.Expression) -> exp.Select:
    return (
        exp.select(exp.Count(this=exp.Star())).from_(exp.to_table(table).as_("t")).where(condition)
    )


def _person_join(query: exp.Select) -> exp.Select:
    return query.join(exp.to_table("person").as_("p"), on="p.person_id = t.person_id")


def _field_checks(con, table: str, concept_checks: bool):
    fields = cdm_fields()[table]
    for f in fields:
        col = exp.column(f.name, "t")
        if f.required:
            yield "isRequired", f.name, _violations(table, col.is_(exp.null())), None
        if f.primary_key:
            duplicated = (
                exp.select(exp.column(f.name))
                .from_(table)
                .group_by(f.name)
                .having(exp.Count(this=exp.Star()) > literal(1))
            )
            yield "isPrimaryKey", f.name, _violations(table, col.isin(query=duplicated)), None
        if f.fk_table and f.fk_table != "concept" and (f.fk_table in cdm_fields()):
            key = next(g.name for g in cdm_fields()[f.fk_table] if g.primary_key)
            present = exp.select(exp.column(key)).from_(f.fk_table)
            missing = exp.and_(col.is_(exp.null()).not_(), exp.not_(col.isin(query=present)))
            yield "isForeignKey", f.name, _violations(table, missing), None
        if f.fk_table == "concept":
            concept = exp.select("concept_id").from_(exp.table_("concept", db="vocab"))
            unknown = exp.and_(
                col.is_(exp.null()).not_(),
                col.neq(literal(0)),
                exp.not_(col.isin(query=concept)),
            )
            yield (
                "isForeignKey",
                f.name,
                _violations(table, unknown) if concept_checks else None,
                None,
            )
            if f.fk_domain:
                wrong = (
                    exp.select("concept_id")
                    .from_(exp.table_("concept", db="vocab"))
                    .where(exp.column("domain_id").neq(literal(f.fk_domain)))
                )
                query = _violations(table, exp.and_(col.neq(literal(0)), col.isin(query=wrong)))
                yield "fkDomain", f.name, query if concept_checks else None, None
        if (table, f.name) in PLAUSIBLE:
            low, high = PLAUSIBLE[(table, f.name)]
            yield "plausibleValueLow", f.name, _violations(table, col < literal(low)), None
            yield "plausibleValueHigh", f.name, _violations(table, col > literal(high)), None


def _concept_checks(table: str, concept_checks: bool):
    main = EVENT_TABLES.get(table, (None,))[0]
    if not main:
        return
    col = exp.column(main, "t")
    zero = col.eq(literal(0))
    denominator = None
    if table == "death":  # only deaths with a recorded cause
        cause = exp.column("cause_source_value", "t").is_(exp.null()).not_()
        zero = exp.and_(zero, cause)
        denominator = _violations(table, cause.copy())
    yield "standardConceptRecordCompleteness", main, _violations(table, zero), denominator
    bad = (
        exp.select("concept_id")
        .from_(exp.table_("concept", db="vocab"))
        .where(
            exp.or_(
                exp.func("coalesce", exp.column("standard_concept"), literal("")).neq(literal("S")),
                exp.column("invalid_reason").is_(exp.null()).not_(),
            )
        )
    )
    query = _violations(table, col.isin(query=bad)) if concept_checks else None
    yield "isStandardValidConcept", main, query, None


def _date_checks(table: str):
    if table not in EVENT_TABLES:
        return
    _, _, start, end = EVENT_TABLES[table]
    first = exp.column(start, "t")
    if end:
        query = _violations(table, exp.column(end, "t") < first)
        yield "plausibleStartBeforeEnd", end, query, None
    if table == "observation_period":
        return
    birth = exp.func("make_date", exp.column("year_of_birth", "p"), literal(1), literal(1))
    yield "plausibleAfterBirth", start, _person_join(_violations(table, first < birth)), None
    if table != "death":
        death = exp.select(exp.column("person_id"), exp.column("death_date")).from_("death")
        late = exp.cast(
            exp.DateAdd(
                this=exp.column("death_date", "d"), expression=literal(60), unit=exp.var("DAY")
            ),
            "DATE",
        )
        query = _violations(table, first.copy() > late).join(
            death.subquery("d"), on="d.person_id = t.person_id"
        )
        yield "plausibleBeforeDeath", start, query, None
        inside = (
            exp.select("1")
            .from_(exp.to_table("observation_period").as_("o"))
            .where("o.person_id = t.person_id")
            .where(
                first.copy().between(
                    exp.column("observation_period_start_date", "o"),
                    exp.column("observation_period_end_date", "o"),
                )
            )
        )
        query = _violations(table, exp.not_(exp.Exists(this=inside)))
        yield "withinObservationPeriod", start, query, None


def run_checks(out: Path, vocab_db: Path | None = None) -> list[dict]:
    """Every check on every CDM table of ``out``: unmasked results (internal)."""
    con = _connect(Path(out), vocab_db)
    concept_checks = vocab_db is not None
    results = []
    try:
        present = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        for table in cdm_fields():
            if table not in present:
                continue
            total = _count(con, _rows(table))
            for name, field, query, denominator in [
                *_field_checks(con, table, concept_checks),
                *_concept_checks(table, concept_checks),
                *_date_checks(table),
            ]:
                t0 = time.perf_counter()
                result = {
                    "checkName": name,
                    "checkLevel": CHECK_LEVEL.get(name, "FIELD"),
                    "checkDescription": DESCRIPTIONS[name][1],
                    "checkDescriptionFr": DESCRIPTIONS[name][0],
                    "cdmTableName": table.upper(),
                    "cdmFieldName": field.upper(),
                    "thresholdValue": THRESHOLDS[name],
                    "notApplicable": query is None,
                    "notApplicableReason": "no vocabulary database" if query is None else None,
                }
                if query is not None:
                    violated = _count(con, query)
                    rows = _count(con, denominator) if denominator is not None else total
                    pct = violated / rows if rows else 0.0
                    failed = pct * 100 > THRESHOLDS[name]
                    result.update(
                        numViolatedRows=violated,
                        numDenominatorRows=rows,
                        pctViolatedRows=round(pct, 6),
                        failed=failed,
                        passed=not failed,
                        isError=False,
                        queryText=query.sql("duckdb"),
                    )
                result["executionTime"] = f"{time.perf_counter() - t0:.3f} secs"
                results.append(result)
    finally:
        con.close()
    return results
