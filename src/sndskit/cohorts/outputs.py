"""Publish a cohort: one suppression pattern over every table a run releases.

``cohort run`` publishes the attrition table and the counts by year × age band × sex;
``cohort stats`` adds the rates (population, person-years, incident and prevalent cases per
stratum), their year × sex margins (``rates_by_year_sex.csv``, the data of ``rates.png``) and
the attrition flowchart, and re-publishes the whole set with one pattern. Every table, every
margin they expose (the final attrition count is the grand total of ``counts.csv``), the
persons removed by each attrition step and ``prevalent − incident`` go into one
:class:`~sndskit.disclosure.Problem`; the pattern is proven by the audit before anything is
written, checked against the release ledger, and the audit's result goes in the manifest.

Person-years are published rounded to ``threshold`` person-years (and rates computed from the
rounded value), and masked with their stratum's cases.
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sndskit.disclosure import Problem, Protection, protect, threshold_note, threshold_warning
from sndskit.disclosure.ledger import Release, check_and_record, data_fingerprint, family_of
from sndskit.disclosure.publish import EXPORT, EXPORT_MD, PRIVATE, csv_text, export_markdown
from sndskit.disclosure.threshold import is_unsafe
from sndskit.errors import SndskitError
from sndskit.io import replace_directory, write_json_atomic, write_text_atomic

STRATUM = ["year", "age_band", "sex"]
RATE_COUNTS = ["population", "incident", "prevalent"]
TABLES_JSON = "tables.json"
SEXES = {"1": "male", "2": "female"}
PER = 100_000


@dataclass
class CohortTables:
    """The unmasked tables of a run, kept in ``OUT/private/tables.json`` for `cohort stats`."""

    attrition: list[dict[str, Any]]
    counts: list[dict[str, Any]]
    one_row_per_person: bool
    rates: list[dict[str, Any]] | None = None
    released: dict[str, list[bool]] | None = None
    """Which attrition and counts cells `cohort run` published masked: `cohort stats` keeps
    them masked and the others visible (both outputs may have left)."""

    def save(self, folder: Path) -> None:
        write_json_atomic(folder / PRIVATE / TABLES_JSON, asdict(self))

    @classmethod
    def load(cls, out: Path) -> CohortTables:
        return cls(**json.loads(run_file(out, PRIVATE, TABLES_JSON).read_text(encoding="utf-8")))


def run_file(out: Path, *parts: str) -> Path:
    path = Path(out, *parts)
    if not path.exists():
        raise SndskitError(
            "not the output folder of `sndskit cohort run` (or written by an older version)",
            file=path,
            hint="run `sndskit cohort run … --out` again",
        )
    return path


@dataclass
class Published:
    """The masked rows of every table and the protection that produced them."""

    attrition: list[dict[str, Any]]
    counts: list[dict[str, Any]]
    rates: list[dict[str, Any]] = field(default_factory=list)
    margins: list[dict[str, Any]] = field(default_factory=list)
    protection: Protection | None = None


def age_band(age: int | None) -> str:
    from sndskit.cohorts.runner import AGE_BANDS

    for low, high in AGE_BANDS:
        if age is not None and low <= age <= high:
            return f"{low}-{high}" if high < 200 else f"{low}+"
    return "unknown"


def count_strata(cohort_rows: list[tuple]) -> list[dict[str, Any]]:
    """Distinct persons per index year × age band at index × sex (rows of ``cohort``:
    person, index date, …, sex, age at index)."""
    cells: dict[tuple, set] = {}
    for person, index_date, *rest in cohort_rows:
        key = (index_date.year, age_band(rest[5]), SEXES.get(str(rest[4]), "unknown"))
        cells.setdefault(key, set()).add(person)
    return [
        {"year": y, "age_band": a, "sex": s, "persons": len(p)}
        for (y, a, s), p in sorted(cells.items())
    ]


def _margins(rates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple, dict[str, Any]] = {}
    for row in rates:
        total = groups.setdefault(
            (row["year"], row["sex"]),
            {"year": row["year"], "sex": row["sex"], "person_years": 0.0}
            | dict.fromkeys(RATE_COUNTS, 0),
        )
        for key in [*RATE_COUNTS, "person_years"]:
            total[key] += row[key]
    return [groups[k] for k in sorted(groups)]


def build_problem(tables: CohortTables) -> tuple[Problem, dict[str, list]]:
    """Every published count of the run and the equations an attacker can use."""
    problem, keys = Problem(), {}
    steps = [
        problem.add(("attrition", i), row["persons"], cost=5.0)
        for i, row in enumerate(tables.attrition)
    ]
    problem.cells[steps[-1]].cost = 20.0  # the final size is the last thing to hide
    for i, (big, small) in enumerate(itertools.pairwise(steps)):
        if problem.cells[big].value >= problem.cells[small].value:
            problem.add_gap(big, small, ("removed by step", i + 1))
    keys["attrition"] = steps
    keys["counts"] = problem.add_table(
        "counts",
        tables.counts,
        keys=STRATUM,
        value="persons",
        margins=[["year"], ["year", "sex"], ["year", "age_band"]],
        link=STRATUM,
    )
    if tables.one_row_per_person:
        problem.add_sum(steps[-1], keys["counts"])
    if tables.rates:
        margins = _margins(tables.rates)
        for column in RATE_COUNTS:
            keys[column] = problem.add_table(
                "rates", tables.rates, keys=STRATUM, value=column, link=STRATUM
            )
            keys[f"margin {column}"] = problem.add_table(
                "rates by year and sex",
                margins,
                keys=["year", "sex"],
                value=column,
                margins=[["year"], []],
                link=["year", "sex"],
            )
            for margin_key, row_keys in zip(
                keys[f"margin {column}"], _groups(tables.rates, margins, keys[column]), strict=True
            ):
                problem.add_sum(margin_key, row_keys)
        for scope in ("", "margin "):
            for pop, inc, prev in zip(*(keys[scope + c] for c in RATE_COUNTS), strict=True):
                problem.add_gap(prev, inc, ("prevalent - incident", *prev[2:]))
                problem.add_gap(pop, prev, ("population - prevalent", *prev[2:]))
        _same_totals(problem, keys["margin incident"])
    return problem, keys


def _same_totals(problem: Problem, incident_margins: list) -> None:
    """Where the persons indexed in a year × sex (counts) equal its incident cases (rates), an
    attacker may assume they are the same persons: the equation is added."""
    for key in incident_margins:
        year, sex = key[2:]
        counts_total = ("counts", "persons", ("year", "sex"), year, sex)
        if counts_total in problem.cells and (
            problem.cells[counts_total].value == problem.cells[key].value
        ):
            problem.add_sum(counts_total, [key])


def _groups(rates, margins, row_keys) -> list[list]:
    index = {(m["year"], m["sex"]): i for i, m in enumerate(margins)}
    out: list[list] = [[] for _ in margins]
    for row, key in zip(rates, row_keys, strict=True):
        out[index[(row["year"], row["sex"])]].append(key)
    return out


def protect_cohort(tables: CohortTables, threshold: int, *, unsafe: bool = False) -> Published:
    """The masked rows of every table of the run, with one audited pattern."""
    problem, keys = build_problem(tables)
    kept: set = set()
    for name, flags in (tables.released or {}).items():
        for key, masked in zip(keys[name], flags, strict=True):
            if masked:
                kept.add(key)
            else:
                problem.cells[key].cost = math.inf  # already released visible
    protection = protect(problem, threshold, unsafe=unsafe, initial=kept)
    hidden = protection.suppressed

    def mask(rows, row_keys, columns):
        out = []
        for row, key in zip(rows, row_keys, strict=True):
            masked = key in hidden
            hide = dict.fromkeys(columns, None) if masked else {}
            out.append({**row, **hide, "masked": masked})
        return out

    published = Published(
        attrition=mask(tables.attrition, keys["attrition"], ["persons", "records"]),
        counts=mask(tables.counts, keys["counts"], ["persons"]),
        protection=protection,
    )
    if tables.rates:
        columns = ["population", "person_years", "incident", "prevalent"]
        for name, rows, row_keys in (
            ("rates", tables.rates, keys["population"]),
            ("margins", _margins(tables.rates), keys["margin population"]),
        ):
            rounded = [_with_rates(row, threshold) for row in rows]
            masked = mask(rounded, row_keys, [*columns, *RATE_COLUMNS])
            setattr(published, name, masked)
    return published


RATE_COLUMNS = [
    "incidence_per_100k",
    "incidence_low",
    "incidence_high",
    "prevalence_per_100k",
    "prevalence_low",
    "prevalence_high",
]


def _with_rates(row: dict[str, Any], unit: int) -> dict[str, Any]:
    """Person-years rounded to ``unit`` and the rates and 95 % intervals computed from them."""
    from sndskit.cohorts.stats import byar_interval, wilson_interval

    py = unit * round(row["person_years"] / unit)
    out = {**row, "person_years": py}
    low, high = byar_interval(row["incident"], py)
    p_low, p_high = wilson_interval(row["prevalent"], row["population"])
    values = {
        "incidence_per_100k": PER * row["incident"] / py if py else None,
        "incidence_low": PER * low,
        "incidence_high": PER * high,
        "prevalence_per_100k": PER * row["prevalent"] / row["population"]
        if row["population"]
        else None,
        "prevalence_low": PER * p_low,
        "prevalence_high": PER * p_high,
    }
    for key, value in values.items():
        out[key] = None if value is None or math.isnan(value) else round(value, 2)
    return out


def _releases(published: Published, manifest: dict[str, Any]) -> list[Release]:
    entry = manifest["spec"].get("entry") or {}
    lists = {e.get("codelist") for e in entry.get("events", [])}
    family = family_of(
        {
            "entry": entry,
            "codelists": {
                ref: [c.get("name"), c.get("spec_hash"), c.get("codes")]
                for ref, c in manifest.get("codelists", {}).items()
                if ref in lists
            },
        }
    )
    definition = manifest["spec_hash"]
    out = []

    def add(table, rows, columns, stratum):
        for row in rows:
            for column in columns:
                if not row.get("masked") and row.get(column) is not None:
                    where = (*tuple(str(row[k]) for k in stratum), column)
                    out.append(Release(family, definition, table, where, int(row[column])))

    add("attrition", published.attrition, ["persons"], ["step"])
    add("counts", published.counts, ["persons"], STRATUM)
    add("rates", published.rates, RATE_COUNTS, STRATUM)
    add("rates by year and sex", published.margins, RATE_COUNTS, ["year", "sex"])
    return out


def publish_cohort(
    folder: Path,
    tables: CohortTables,
    *,
    manifest: dict[str, Any],
    data: Any,
    threshold: int,
    unsafe: bool = False,
    force: bool = False,
    output: str = "cohort run",
) -> Published:
    """Protect, check against the ledger, then write ``folder/export`` (CSVs, figures after
    `cohort stats`, manifest.json with the audit, EXPORT.md). ``folder/private`` must already
    hold the person-level files."""
    published = protect_cohort(tables, threshold, unsafe=unsafe)
    ledger = {"fingerprint": data_fingerprint(data), "checked_releases": 0, "conflicts": 0}
    ledger |= {"forced": False, "skipped": "unsafe threshold: not a release"}
    if not is_unsafe(threshold):  # outputs below the rule are not releases
        ledger = check_and_record(
            ledger["fingerprint"],
            _releases(published, manifest),
            threshold,
            output=output,
            force=force,
        )
    export = folder / EXPORT
    export.mkdir(parents=True, exist_ok=True)
    write_text_atomic(
        export / "attrition.csv",
        csv_text(published.attrition, ["step", "persons", "records"], threshold),
    )
    write_text_atomic(
        export / "counts.csv", csv_text(published.counts, [*STRATUM, "persons"], threshold)
    )
    written = ["attrition.csv", "counts.csv"]
    if tables.rates:
        written += _write_stats(export, published, manifest["spec"]["name"], threshold)
    manifest["disclosure"] = {
        "threshold": threshold,
        "unsafe_threshold": unsafe,
        "note": {"fr": threshold_note(threshold, "fr"), "en": threshold_note(threshold)},
        "warning": threshold_warning(threshold),
        "label": "masked",
        "person_years_rounded_to": threshold,
        "published": written,
        "audit": published.protection.audit.summary() if published.protection else None,
        "ledger": ledger,
    }
    write_json_atomic(export / "manifest.json", manifest)
    audit = manifest["disclosure"]["audit"]
    checks = [
        threshold_note(threshold),
        f"one suppression pattern over {', '.join(written)}: {audit['suppressed_cells']} "
        "cells masked, all labelled `masked`",
        f"audit by linear programming: {audit['checked_intervals']} intervals, narrowest "
        f"{audit['narrowest_interval']} (rule: ≥ {threshold})",
        f"release ledger {ledger['fingerprint']}: {ledger['checked_releases']} counts, "
        f"{ledger['conflicts']} conflict(s)"
        + (" OVERRIDDEN (--force)" if ledger["forced"] else ""),
    ]
    write_text_atomic(
        export / EXPORT_MD,
        export_markdown(
            export, manifest["spec"]["name"], threshold, checks, ["cohort.parquet", TABLES_JSON]
        ),
    )
    return published


def write_run(
    out: Path,
    tables: CohortTables,
    manifest: dict[str, Any],
    *,
    write_private: Callable[[Path], None],
    data: Any,
    threshold: int,
    unsafe: bool = False,
    force: bool = False,
) -> Published:
    """Build ``out`` aside — ``private/`` (``write_private(folder)`` and the unmasked tables),
    then ``export/`` — and swap it in only when complete; nothing is left behind on error."""
    staging = out.with_name(f".{out.name}.staging")
    if staging.exists():
        shutil.rmtree(staging)
    (staging / PRIVATE).mkdir(parents=True)
    try:
        write_private(staging / PRIVATE)
        published = publish_cohort(
            staging,
            tables,
            manifest=manifest,
            data=data,
            threshold=threshold,
            unsafe=unsafe,
            force=force,
        )
        tables.released = {
            "attrition": [bool(r.get("masked")) for r in published.attrition],
            "counts": [bool(r.get("masked")) for r in published.counts],
        }
        tables.save(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    replace_directory(staging, out)
    return published


def _write_stats(export: Path, published: Published, name: str, threshold: int) -> list[str]:
    from sndskit.cohorts.figures import plot_attrition, plot_rates

    rate_columns = [*STRATUM, "population", "person_years", "incident", "prevalent"]
    write_text_atomic(
        export / "rates.csv",
        csv_text(published.rates, [*rate_columns, *RATE_COLUMNS, "masked"], threshold),
    )
    write_text_atomic(
        export / "rates_by_year_sex.csv",
        csv_text(
            published.margins,
            ["year", "sex", *rate_columns[3:], *RATE_COLUMNS, "masked"],
            threshold,
        ),
    )
    plot_attrition(published.attrition, export / "attrition.png", f"{name}: attrition", threshold)
    plot_rates(published.margins, export / "rates.png", name, threshold)
    return ["rates.csv", "rates_by_year_sex.csv", "attrition.png", "rates.png"]


def publish_stats(
    out: Path,
    rates: list[dict[str, Any]],
    data: Any,
    *,
    threshold: int,
    unsafe: bool = False,
    force: bool = False,
) -> Published:
    """Re-publish a run's ``export`` folder with its rates: one pattern over all its tables.
    The new folder is built aside and swapped in only when complete."""
    tables = CohortTables.load(out)
    tables.rates = rates
    manifest = json.loads(run_file(out, EXPORT, "manifest.json").read_text(encoding="utf-8"))
    released = manifest.get("disclosure", {}).get("threshold")
    if released != threshold:
        raise SndskitError(
            f"`cohort run` published this folder with threshold {released}: `cohort stats` "
            "keeps what it released, so it must use the same threshold",
            field="threshold",
            allowed=[str(released)],
            hint="or rerun `cohort run` with the new threshold first",
        )
    staging = out / f".{EXPORT}.staging"
    if staging.exists():
        shutil.rmtree(staging)
    (staging / EXPORT).mkdir(parents=True)
    manifest["stats"] = {"threshold": threshold, "note": threshold_note(threshold)}
    try:
        published = publish_cohort(
            staging,
            tables,
            manifest=manifest,
            data=data,
            threshold=threshold,
            unsafe=unsafe,
            force=force,
            output="cohort stats",
        )
        replace_directory(staging / EXPORT, out / EXPORT)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return published
