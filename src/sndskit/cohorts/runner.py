"""Run a cohort on SNDS-shaped data and write its outputs.

``OUT/private/cohort.parquet`` (person-level: person, index date, exit date, entry source …;
never exported), ``OUT/export/attrition.csv`` and ``OUT/export/counts.csv`` (masked by
:mod:`sndskit.cohorts.outputs`), ``OUT/export/manifest.json`` (spec hash, code-list versions,
data, engine, versions, timings, every table/column/year read, the disclosure audit) and
``OUT/export/EXPORT.md``. The folder is built aside and swapped in only when complete.
"""

from __future__ import annotations

import hashlib
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
from sndskit.cohorts.outputs import CohortTables, Published, count_strata, write_run
from sndskit.cohorts.spec import CohortSpec
from sndskit.disclosure import DEFAULT_THRESHOLD, check_threshold
from sndskit.engines import open_engine
from sndskit.errors import SndskitError
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
    """A run's result in memory. ``attrition`` is unmasked (for work inside the secure
    environment); ``published`` holds the masked tables as written in ``OUT/export``."""

    out: Path
    attrition: list[dict[str, Any]]
    published: Published
    persons: int
    manifest: dict[str, Any]


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
    unsafe_threshold: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    spark_master: str | None = None,
) -> CohortRun:
    check_threshold(threshold, unsafe=unsafe_threshold)
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
        manifest = _manifest(
            spec, plan, codelists, data, engine, threshold, timings, time.perf_counter() - started
        )
        tables = CohortTables(
            attrition, count_strata(cohort_rows), len(cohort_rows) == attrition[-1]["persons"]
        )
        published = write_run(
            out,
            tables,
            manifest,
            write_private=lambda folder: runner.write_parquet(
                "cohort", folder / "cohort.parquet", ("person_id", "index_date")
            ),
            data=data,
            threshold=threshold,
            unsafe=unsafe_threshold,
            force=force,
        )
    finally:
        runner.close()
    return CohortRun(out, attrition, published, attrition[-1]["persons"], manifest)


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
