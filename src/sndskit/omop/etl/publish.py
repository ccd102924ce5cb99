"""What the ETL publishes about its output: record-level mapping coverage, the usage file for
``sndskit omop quality --usage``, and the data-quality results in DataQualityDashboard's JSON
shape with a bilingual HTML summary. Counts are masked 1–threshold (:func:`publish_counts`);
``usage.csv`` is a working file with exact counts, like the CDM tables themselves.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import duckdb
from sqlglot import exp

from sndskit.io import write_json_atomic, write_text_atomic
from sndskit.omop.etl.checks import publish_counts, run_checks
from sndskit.omop.etl.sql import literal

# table → (vocabulary expression on the source value, concept field, source value field)
COVERAGE = {
    "condition_occurrence": ("CIM10", "condition_concept_id", "condition_source_value"),
    "drug_exposure": (None, "drug_concept_id", "drug_source_value"),
    "procedure_occurrence": ("CCAM", "procedure_concept_id", "procedure_source_value"),
    "measurement": ("NABM", "measurement_concept_id", "measurement_source_value"),
    "death": ("CIM10", "cause_concept_id", "cause_source_value"),
    "provider": ("SPE", "specialty_concept_id", "specialty_source_value"),
}


def _vocabulary(table: str, source: exp.Expression) -> exp.Expression:
    fixed = COVERAGE[table][0]
    if fixed:
        return literal(fixed)
    cip13 = exp.StartsWith(this=source, expression=literal("3400"))  # CIP13 = 3400 + 9 digits
    return exp.Case(ifs=[exp.If(this=cip13, true=literal("CIP13"))], default=literal("UCD"))


def usage_rows(out: Path) -> list[dict]:
    """Records per (table, vocabulary, source code) and whether the code reached a standard
    concept, read from the written tables."""
    con = duckdb.connect()
    rows: list[dict] = []
    try:
        for table, (_, concept, source) in COVERAGE.items():
            path = Path(out) / f"{table}.parquet"
            if not path.exists():
                continue
            code = exp.column(source)
            query = (
                exp.select(
                    exp.alias_(_vocabulary(table, code.copy()), "vocabulary"),
                    exp.alias_(code.copy(), "code"),
                    exp.alias_(exp.Count(this=exp.Star()), "records"),
                    exp.alias_(exp.Max(this=exp.column(concept)), "concept"),
                )
                .from_(exp.func("read_parquet", exp.Literal.string(str(path))))
                .where(code.copy().is_(exp.null()).not_())
                .group_by(literal(1), literal(2))
                .order_by(literal(1), literal(2))
            )
            for vocabulary, value, records, best in con.execute(query.sql("duckdb")).fetchall():
                rows.append(
                    {
                        "table": table,
                        "vocabulary": vocabulary,
                        "code": value,
                        "records": int(records),
                        "mapped": bool(best and best > 0),
                    }
                )
    finally:
        con.close()
    return rows


def coverage(usage: list[dict]) -> list[dict]:
    """Per table and vocabulary: codes and records, mapped (concept ≠ 0) and shares."""
    cells: dict[tuple[str, str], dict] = {}
    for row in usage:
        cell = cells.setdefault(
            (row["table"], row["vocabulary"]),
            {"codes": 0, "codes_mapped": 0, "records": 0, "records_mapped": 0},
        )
        cell["codes"] += 1
        cell["records"] += row["records"]
        if row["mapped"]:
            cell["codes_mapped"] += 1
            cell["records_mapped"] += row["records"]
    out = []
    for (table, vocabulary), cell in sorted(cells.items()):
        out.append(
            {
                "table": table,
                "vocabulary": vocabulary,
                **cell,
                "share_codes_mapped": round(cell["codes_mapped"] / cell["codes"], 4),
                "share_records_mapped": round(cell["records_mapped"] / cell["records"], 4),
            }
        )
    return out


def _published_coverage(rows: list[dict], threshold: int) -> list[dict]:
    masked = publish_counts(rows, ["records", "records_mapped"], threshold)
    for row in masked:  # a share would give a masked count back
        if isinstance(row["records_mapped"], str) or isinstance(row["records"], str):
            row["share_records_mapped"] = None
    return masked


def _usage_csv(usage: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["vocabulary", "code", "records"])
    totals: dict[tuple[str, str], int] = {}
    for row in usage:
        key = (row["vocabulary"], row["code"])
        totals[key] = totals.get(key, 0) + row["records"]
    for (vocabulary, code), records in sorted(totals.items()):
        writer.writerow([vocabulary, code, records])
    return buffer.getvalue()


def _published_checks(results: list[dict], threshold: int) -> list[dict]:
    applicable = [r for r in results if not r["notApplicable"]]
    masked = publish_counts(applicable, ["numViolatedRows", "numDenominatorRows"], threshold)
    for row in masked:
        if isinstance(row["numViolatedRows"], str) or isinstance(row["numDenominatorRows"], str):
            row["pctViolatedRows"] = None
    return masked + [r for r in results if r["notApplicable"]]


def dqd_document(results: list[dict], started: datetime, cdm_source: dict) -> dict:
    """DataQualityDashboard's result shape (``Overview`` and ``CheckResults``)."""
    applicable = [r for r in results if not r["notApplicable"]]
    failed = sum(1 for r in applicable if r["failed"])
    ended = datetime.now(UTC)
    return {
        "startTimestamp": started.isoformat(timespec="seconds"),
        "endTimestamp": ended.isoformat(timespec="seconds"),
        "executionTime": f"{(ended - started).total_seconds():.1f} secs",
        "CdmSourceName": cdm_source.get("cdm_source_name", ""),
        "Metadata": [cdm_source],
        "Overview": {
            "countTotal": len(results),
            "countThresholdFailed": failed,
            "countErrorFailed": 0,
            "countOverallFailed": failed,
            "countPassed": len(applicable) - failed,
            "countNotApplicable": len(results) - len(applicable),
            "percentPassed": round(100 * (len(applicable) - failed) / len(applicable))
            if applicable
            else 100,
        },
        "CheckResults": results,
    }


_STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.2em .5em}.KO{background:#fdd}.NA{color:#888}"
)


def _cells(values: list, tag: str = "td") -> str:
    return "".join(f"<{tag}>{escape('' if v is None else str(v))}</{tag}>" for v in values)


def html_summary(document: dict, threshold: int) -> str:
    """Self-contained bilingual page: overview, mapping coverage, every check."""
    o = document["Overview"]
    rows = []
    for r in document["MappingCoverage"]:
        share = r["share_records_mapped"]
        rows.append(
            "<tr>" + _cells([r["table"], r["vocabulary"], r["codes"], r["records"],
                            r["records_mapped"], "—" if share is None else share]) + "</tr>"
        )  # fmt: skip
    checks = []
    for r in document["CheckResults"]:
        state = "NA" if r["notApplicable"] else ("KO" if r["failed"] else "")
        pct = r.get("pctViolatedRows")
        verdict = "n/a" if r["notApplicable"] else ("ÉCHEC / FAIL" if r["failed"] else "OK")
        name = (
            f"{escape(r['checkName'])}<br><small>{escape(r['checkDescriptionFr'])} / "
            f"{escape(r['checkDescription'])}</small>"
        )
        checks.append(
            f'<tr class="{state}"><td>{name}</td>'
            + _cells([r["cdmTableName"], r["cdmFieldName"], r.get("numViolatedRows"),
                      r.get("numDenominatorRows"), "—" if pct is None else round(100 * pct, 2),
                      r["thresholdValue"], verdict])
            + "</tr>"
        )  # fmt: skip
    return (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Qualité OMOP / '
        f"OMOP quality</title><style>{_STYLE}</style></head><body>"
        "<h1>Contrôles de qualité OMOP-CDM 5.4 / OMOP-CDM 5.4 data quality</h1>"
        f"<p>{o['countPassed']} réussis / passed · {o['countOverallFailed']} échoués / failed · "
        f"{o['countNotApplicable']} non applicables / not applicable. Effectifs de 1 à "
        f"{threshold} masqués / counts of 1 to {threshold} masked.</p>"
        "<h2>Couverture de l'alignement (enregistrements) / Mapping coverage (records)</h2>"
        "<table><tr>" + _cells(["table", "vocabulaire / vocabulary", "codes",
                                "enregistrements / records", "alignés / mapped",
                                "part / share"], "th") + "</tr>" + "".join(rows) + "</table>"
        "<h2>Contrôles / Checks</h2><table><tr>"
        + _cells(["contrôle / check", "table", "champ / field", "violations", "lignes / rows",
                  "%", "seuil / threshold", ""], "th")
        + "</tr>" + "".join(checks) + "</table></body></html>\n"
    )  # fmt: skip


def write_quality(out: Path, threshold: int, vocab_db: Path | None = None) -> dict:
    """Write ``_etl/usage.csv``, ``coverage.csv``, ``dqd.json`` and ``dqd.html``; returns the
    published DQD document."""
    started = datetime.now(UTC)
    out = Path(out)
    usage = usage_rows(out)
    write_text_atomic(out / "_etl" / "usage.csv", _usage_csv(usage))
    published = _published_coverage(coverage(usage), threshold)
    buffer = io.StringIO()
    if published:
        writer = csv.DictWriter(buffer, fieldnames=list(published[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(published)
    write_text_atomic(out / "_etl" / "coverage.csv", buffer.getvalue())
    cdm_source = {}
    source = out / "cdm_source.parquet"
    if source.exists():
        import pyarrow.parquet as pq

        rows = pq.read_table(source).to_pylist()
        cdm_source = {k: str(v) for k, v in rows[0].items()} if rows else {}
    checks = _published_checks(run_checks(out, vocab_db), threshold)
    document = dqd_document(checks, started, cdm_source)
    document["MappingCoverage"] = published
    write_json_atomic(out / "_etl" / "dqd.json", document)
    write_text_atomic(out / "_etl" / "dqd.html", html_summary(document, threshold))
    return document
