"""Run an algorithm: each of its cohorts through the cohort engine, then one row per person.

``OUT/private/persons.parquet`` (person_id, index_date, cohorts: the specs the person met;
person-level, stays inside), ``OUT/export/counts.csv`` (persons by index year and cohort
combination, masked, with the threshold on every row), ``OUT/export/manifest.json``
(algorithm id, version, fingerprint, each cohort's manifest, the disclosure audit) and
``OUT/export/EXPORT.md``; ``OUT/cohorts/<spec>/`` holds each cohort run's own ``private/``
and ``export/``. The folder is built aside and swapped in when complete.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sndskit import __version__
from sndskit.algorithms.disclosure import DEFAULT_THRESHOLD, protect_rows
from sndskit.algorithms.folder import Algorithm
from sndskit.cohorts.runner import run_cohort
from sndskit.cohorts.spec import CohortSpec, Period
from sndskit.disclosure import check_threshold
from sndskit.disclosure.publish import PRIVATE, csv_text, write_export
from sndskit.engines.datasource import DataFolder
from sndskit.errors import SndskitError
from sndskit.io import replace_directory

Progress = Callable[[str, int, int], None]


@dataclass
class AlgorithmRun:
    out: Path
    persons: dict[str, dict[str, Any]]  # person_id → {index_date, cohorts}
    counts: list[dict[str, Any]]  # masked, as written in OUT/export/counts.csv
    attrition: dict[str, list[dict[str, Any]]]  # spec → masked (published) attrition
    manifest: dict[str, Any]


def shift_period(spec: CohortSpec, start: date | None, end: date | None) -> CohortSpec:
    """The spec with its period moved so that it ends on ``end`` (or starts on ``start``),
    keeping its length: a one-year rule stays one year, an N-1..N rule stays two."""
    if start is None and end is None:
        return spec
    length = spec.period.end - spec.period.start
    if end is None:
        end = start + length
    elif start is None:
        start = end - length
    if end < start:
        raise SndskitError(f"end {end} is before start {start}", field="end")
    return spec.model_copy(update={"period": Period(start=start, end=end)})


def run_algorithm(
    algorithm: Algorithm,
    data: DataFolder,
    out: Path,
    *,
    engine: str = "duckdb",
    threshold: int = DEFAULT_THRESHOLD,
    unsafe_threshold: bool = False,
    end: date | None = None,
    progress: Progress | None = None,
    spark_master: str | None = None,
) -> AlgorithmRun:
    """Run every cohort of ``algorithm`` on ``data`` and combine them per person.

    ``end`` moves every cohort's period so that it ends on that day (same length). A
    threshold below the default needs ``unsafe_threshold`` (outputs that stay inside).
    """
    check_threshold(threshold, unsafe=unsafe_threshold)
    out = Path(out)
    staging = out.with_name(f".{out.name}.algorithm-staging")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    persons: dict[str, dict[str, Any]] = {}
    attrition, manifests = {}, {}
    try:
        for i, (name, spec) in enumerate(algorithm.cohorts.items(), start=1):
            if progress:
                progress(f"cohort {name}", i - 1, len(algorithm.cohorts))
            spec = shift_period(spec, None, end)
            target = staging / "cohorts" / Path(name).stem
            result = run_cohort(
                spec,
                data,
                target,
                codelists=algorithm.codelists_of(name),
                engine=engine,
                threshold=threshold,
                unsafe_threshold=unsafe_threshold,
                spark_master=spark_master,
            )
            # cohorts/ leaves the "masked" key out of shown rows: every row gets its boolean
            attrition[name] = [
                {**row, "masked": bool(row.get("masked"))} for row in result.published.attrition
            ]
            manifests[name] = result.manifest
            for row in pq.read_table(target / PRIVATE / "cohort.parquet").to_pylist():
                entry = persons.setdefault(
                    row["person_id"], {"index_date": row["index_date"], "cohorts": set()}
                )
                entry["index_date"] = min(entry["index_date"], row["index_date"])
                entry["cohorts"].add(name)
        if algorithm.meta.score:
            add_scores(persons, algorithm)
        (staging / PRIVATE).mkdir()
        _write_persons(persons, staging / PRIVATE / "persons.parquet")
        counts, audit = _counts(persons, threshold, unsafe_threshold)
        manifest = {
            "sndskit_version": __version__,
            "algorithm": algorithm.id,
            "version": algorithm.meta.version,
            "fingerprint": algorithm.fingerprint(),
            "engine": engine,
            "privacy_threshold": threshold,
            "period_end": end.isoformat() if end else None,
            "cohorts": manifests,
        }
        write_export(
            staging,
            f"algorithm {algorithm.id} {algorithm.meta.version}",
            {"counts.csv": csv_text(counts, ["year", "cohorts", "persons", "masked"], threshold)},
            threshold=threshold,
            audit=audit,
            manifest=manifest,
        )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    replace_directory(staging, out)
    return AlgorithmRun(out, persons, counts, attrition, manifest)


def add_scores(persons: dict[str, dict[str, Any]], algorithm: Algorithm) -> None:
    """Each person's score: the weights of the components met, minus the components a met
    one supersedes (e.g. metastatic tumour supersedes any malignancy)."""
    components = algorithm.meta.score.components
    for entry in persons.values():
        met = {c.id for c in components if c.spec in entry["cohorts"]}
        dropped = {s for c in components if c.id in met for s in c.supersedes}
        entry["score"] = sum(c.weight for c in components if c.id in met - dropped)


def _write_persons(persons: dict[str, dict[str, Any]], path: Path) -> None:
    ids = sorted(persons)
    scores = {"score": pa.array([persons[p].get("score") for p in ids], pa.int32())}
    table = pa.table(
        {
            "person_id": pa.array(ids, pa.string()),
            "index_date": pa.array([persons[p]["index_date"] for p in ids], pa.date32()),
            "cohorts": pa.array(
                [sorted(persons[p]["cohorts"]) for p in ids], pa.list_(pa.string())
            ),
            **(scores if ids and "score" in persons[ids[0]] else {}),
        }
    )
    pq.write_table(table, path)


def _counts(
    persons: dict[str, dict[str, Any]], threshold: int, unsafe: bool
) -> tuple[list[dict], dict[str, Any]]:
    """Persons by index year and cohort combination — by score for a score (masked;
    margins: year, combination and the grand total)."""
    cells: dict[tuple[int | str, str], int] = {}
    for entry in persons.values():
        if "score" in entry:  # a score describes the whole window, not an index year
            key = ("all", f"score {entry['score']}")
        else:
            key = (entry["index_date"].year, "+".join(sorted(entry["cohorts"])))
        cells[key] = cells.get(key, 0) + 1
    rows = [{"year": y, "cohorts": c, "persons": n} for (y, c), n in sorted(cells.items())]
    margins = [[], ["year"], ["cohorts"]]
    return protect_rows(
        rows, persons="persons", margins=margins, threshold=threshold, unsafe=unsafe
    )
