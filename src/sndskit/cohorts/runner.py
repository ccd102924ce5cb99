"""Run a cohort on SNDS-shaped data and write its outputs.

``OUT/cohort.parquet`` (person, index date, exit date, entry source …), ``OUT/attrition.csv``
and ``OUT/counts.csv`` (masked), ``OUT/manifest.json`` (spec hash, code-list versions,
data, engine, versions, timings, and every table/column/year read). The folder is built
aside and swapped in only when complete.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sndskit import __version__
from sndskit.codelists.model import Codelist, load_codelist
from sndskit.cohorts.compiler import CohortPlan, compile_cohort
from sndskit.cohorts.context import CompileContext
from sndskit.cohorts.spec import CohortSpec
from sndskit.engines import open_engine
from sndskit.errors import SndskitError
from sndskit.io import replace_directory
from sndskit.privacy import DEFAULT_THRESHOLD, mask_counts, render_count
from sndskit.snds.sources import SOURCES
from sndskit.specs import dump_spec, load_spec

if TYPE_CHECKING:
    from sndskit.engines.datasource import DataFolder

AGE_BANDS = ((0, 17), (18, 39), (40, 64), (65, 74), (75, 84), (85, 200))
Progress = Callable[[str, int, int], None]


def resolve_codelists(
    spec: CohortSpec, base: Path, store: Path | None = None
) -> dict[str, Codelist]:
    """Each code-list reference of the spec: a frozen list (.json), a spec (.yaml) or the
    name of a curated list."""
    from sndskit.codelists.library import get_library_spec  # the terminology, only if needed
    from sndskit.codelists.resolve import build_codelist
    from sndskit.codelists.spec import CodelistSpec

    out: dict[str, Codelist] = {}
    for event in spec.all_events():
        ref = event.codelist
        if not ref or ref in out:
            continue
        path = (base / ref) if not Path(ref).is_absolute() else Path(ref)
        if path.suffix == ".json" and path.exists():
            out[ref] = load_codelist(path)
        elif path.suffix in (".yaml", ".yml") and path.exists():
            out[ref] = build_codelist(load_spec(path, CodelistSpec), store=store)
        else:
            out[ref] = build_codelist(get_library_spec(ref), store=store)
    return out


def codes_by_ref(
    spec: CohortSpec, codelists: dict[str, Codelist]
) -> dict[str, dict[str, list[str]]]:
    codes: dict[str, dict[str, list[str]]] = {}
    for event in spec.all_events():
        if not event.codelist:
            continue
        wanted = SOURCES[event.source].vocabularies
        listed = codelists[event.codelist]
        per_vocab = codes.setdefault(event.codelist, {})
        for vocabulary in listed.vocabularies():
            per_vocab[vocabulary] = listed.codes(vocabulary)
        if not any(per_vocab.get(v) for v in wanted):
            raise SndskitError(
                f"code list {event.codelist!r} has no {'/'.join(wanted)} code "
                f"for {event.source} events",
                field="codelist",
                allowed=listed.vocabularies(),
            )
    return codes


def plan_cohort(
    spec: CohortSpec,
    codelists: dict[str, Codelist],
    data: DataFolder | None = None,
    schema: dict[str, dict[str, str]] | None = None,
) -> CohortPlan:
    """Compile against the data's real columns (or the catalogue's, without data)."""
    if data is not None and schema is None:
        schema = data.schema()
    years = data.pmsi_years() if data is not None else None
    ctx = CompileContext(
        spec=spec, codes=codes_by_ref(spec, codelists), columns=schema, pmsi_years=years
    )
    return compile_cohort(ctx)


def plan_inputs(plan: CohortPlan) -> dict[str, Any]:
    """What a plan reads: its event sources (from the registry), tables and columns, PMSI
    years and DCIR flux months (``cohort sql --inputs``, the manifest)."""
    used = dict.fromkeys(e.source for e in plan.spec.all_events())
    return {
        "sources": [
            {
                "source": name,
                "label_en": SOURCES[name].label_en,
                "label_fr": SOURCES[name].label_fr,
                "vocabularies": list(SOURCES[name].vocabularies),
            }
            for name in used
        ],
        "tables": plan.reads,
        "pmsi_years": plan.years,
        "dcir_flux_months": [d.isoformat() for d in plan.flux_window],
    }


@dataclass
class CohortRun:
    out: Path
    attrition: list[dict[str, Any]]
    counts: list[dict[str, Any]]
    persons: int
    manifest: dict[str, Any]


def _age_band(age: int | None) -> str:
    for low, high in AGE_BANDS:
        if age is not None and low <= age <= high:
            return f"{low}-{high}" if high < 200 else f"{low}+"
    return "unknown"


def _mask_attrition(rows: list[dict[str, Any]], threshold: int) -> list[dict[str, Any]]:
    """Mask small steps, and steps whose difference with the next shown count is small (the
    number excluded is a count of persons too). Walking back from the final cohort keeps its
    size visible and hides the earlier step instead."""
    out = [dict(row, masked=None) for row in rows]
    next_shown = None
    for row in reversed(out):
        persons = row["persons"]
        if 1 <= persons <= threshold:
            row["masked"] = "primary"
        elif next_shown is not None and 1 <= persons - next_shown <= threshold:
            row["masked"] = "secondary"
        if row["masked"]:
            row["persons"] = row["records"] = None
        else:
            next_shown = persons
    return out


def _csv(rows: list[dict[str, Any]], columns: list[str], threshold: int) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                render_count(row[c], row["masked"], threshold)
                if c in ("persons", "records")
                else row[c]
                for c in columns
            ]
        )
    return buffer.getvalue()


COHORT_COLUMNS = [
    "person_id",
    "index_date",
    "exit_date",
    "exit_reason",
    "entry_source",
    "entry_code",
    "sex",
    "age_at_index",
]


def run_cohort(
    spec: CohortSpec,
    data: DataFolder,
    out: Path,
    *,
    codelists: dict[str, Codelist],
    engine: str = "duckdb",
    threshold: int = DEFAULT_THRESHOLD,
    progress: Progress | None = None,
    spark_master: str | None = None,
) -> CohortRun:
    notify = progress or (lambda *_: None)
    started = time.perf_counter()
    runner = open_engine(engine, data, master=spark_master)
    try:
        plan = plan_cohort(spec, codelists, data, schema=runner.schema())
        attrition, timings = _run_plan(runner, plan, notify)
        cohort_rows = runner.rows("cohort", COHORT_COLUMNS)
        attrition.append(
            {
                "step": "cohort (after exit rules)",
                "persons": len({r[0] for r in cohort_rows}),
                "records": len(cohort_rows),
            }
        )
        counts = _counts(cohort_rows, threshold)
        masked_attrition = _mask_attrition(attrition, threshold)
        manifest = _manifest(
            spec, plan, codelists, data, engine, threshold, timings, time.perf_counter() - started
        )
        _write_outputs(runner, out, masked_attrition, counts, manifest, threshold)
    finally:
        runner.close()
    return CohortRun(out, masked_attrition, counts, len({r[0] for r in cohort_rows}), manifest)


def _run_plan(runner, plan: CohortPlan, notify: Progress) -> tuple[list[dict], dict[str, float]]:
    """Materialise every step; count persons and rows of the attrition steps."""
    timings: dict[str, float] = {}
    attrition: list[dict[str, Any]] = []
    clock = [time.perf_counter()]

    def done(step, number: int, total: int) -> None:
        if step.attrition:
            persons, records = runner.count(step.name)
            attrition.append({"step": step.attrition, "persons": persons, "records": records})
        timings[step.name] = round(time.perf_counter() - clock[0], 3)
        clock[0] = time.perf_counter()
        notify(f"step {step.name}", number, total)

    runner.run(plan.steps, on_step=done)
    return attrition, timings


def _write_outputs(runner, out: Path, attrition, counts, manifest, threshold: int) -> None:
    """Build the output folder aside and swap it in only when complete; a failure leaves no
    staging folder and the previous outputs untouched."""
    staging = out.with_name(f".{out.name}.staging")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        runner.write_parquet("cohort", staging / "cohort.parquet", ("person_id", "index_date"))
        (staging / "attrition.csv").write_text(
            _csv(attrition, ["step", "persons", "records"], threshold)
        )
        (staging / "counts.csv").write_text(
            _csv(counts, ["year", "age_band", "sex", "persons"], threshold)
        )
        (staging / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n"
        )
        replace_directory(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _counts(rows: list[tuple], threshold: int) -> list[dict[str, Any]]:
    cells: dict[tuple, set] = {}
    for person, index_date, *_rest in rows:
        sex, age = _rest[4], _rest[5]
        key = (
            index_date.year,
            _age_band(age),
            {"1": "male", "2": "female"}.get(str(sex), "unknown"),
        )
        cells.setdefault(key, set()).add(person)
    table = [
        {"year": y, "age_band": a, "sex": s, "persons": len(p)}
        for (y, a, s), p in sorted(cells.items())
    ]
    return mask_counts(
        table,
        persons="persons",
        margins=[["year"], ["year", "sex"], ["year", "age_band"]],
        threshold=threshold,
    )


def _manifest(
    spec, plan: CohortPlan, codelists, data, engine, threshold, timings, seconds
) -> dict[str, Any]:
    return {
        "sndskit_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "spec": spec.model_dump(mode="json", exclude_none=True),
        "spec_hash": hashlib.sha256(dump_spec(spec).encode()).hexdigest(),
        "codelists": {
            ref: {
                "name": c.name,
                "version": c.version,
                "built_at": c.built_at,
                "spec_hash": c.spec_hash,
                "terminology": c.terminology,
                "codes": len(c.entries),
            }
            for ref, c in codelists.items()
        },
        "data": {"path": str(data.path), "tables": sorted(data.tables)},
        "engine": engine,
        "privacy_threshold": threshold,
        "inputs": plan_inputs(plan),
        "timings_seconds": {"total": round(seconds, 3), "steps": timings},
    }
