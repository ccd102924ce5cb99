"""Generate a synthetic SNDS folder: parts in parallel, chunks streamed, atomic output.

The output is built in a staging folder beside ``out`` and renamed over it only when
complete: a failed or interrupted run leaves any previous dataset in place, untouched.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import shutil
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from sndskit import __version__
from sndskit.catalog import get_catalog
from sndskit.config import store_path
from sndskit.errors import SndskitError
from sndskit.io import replace_directory, write_json_atomic
from sndskit.store import read_manifest
from sndskit.synthetic.chunk import generate_chunk
from sndskit.synthetic.context import GenerationContext, build_context
from sndskit.synthetic.definitions import module_definition
from sndskit.synthetic.schema import (
    DCIR_TABLES,
    OPTIONAL_PMSI_TABLES,
    PMSI_TABLES,
    REFERENTIAL_TABLES,
)
from sndskit.synthetic.spec import GeneratorConfig
from sndskit.synthetic.truth import SCHEMAS as TRUTH_SCHEMAS
from sndskit.synthetic.writer import PartWriter

FORMAT_VERSION = 1
Progress = Callable[[int, int], None]  # (persons done, persons in all)


@dataclass
class GenerationReport:
    out: Path
    config: GeneratorConfig
    rows: dict[str, int]
    truth_rows: dict[str, int]
    trap_rows: dict[str, int]
    seconds: float
    manifest: dict = field(repr=False)


def generate(
    config: GeneratorConfig,
    out: str | Path,
    *,
    store: str | Path | None = None,
    workers: int = 1,
    progress: Progress | None = None,
) -> GenerationReport:
    """Write the synthetic dataset of ``config`` into ``out`` (replaced atomically).

    ``workers`` > 1 generates parts in parallel processes (``spawn``): as with any
    multiprocessing code, call it from under ``if __name__ == "__main__":`` in a script.
    The output does not depend on ``workers``.
    """
    started = time.perf_counter()
    out = Path(out).resolve()
    _check_replaceable(out)
    store = Path(store) if store is not None else store_path()
    catalog = get_catalog(store)
    ctx = build_context(config, catalog, store)
    staging = out.parent / f".{out.name}.staging-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        parts = _parts(config)
        results = _run_parts(ctx, staging, parts, workers, progress)
        rows, truth_rows, trap_rows = _totals(results)
        manifest = _manifest(ctx, store, len(parts), rows, truth_rows, trap_rows)
        write_json_atomic(staging / "truth" / "manifest.json", manifest)
        replace_directory(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return GenerationReport(
        out=out,
        config=config,
        rows=rows,
        truth_rows=truth_rows,
        trap_rows=trap_rows,
        seconds=time.perf_counter() - started,
        manifest=manifest,
    )


def _check_replaceable(out: Path) -> None:
    """Only a new or empty folder, or a previous synthetic dataset, may be replaced."""
    if not out.exists():
        return
    if not out.is_dir():
        raise SndskitError("output exists and is not a folder", file=out)
    if not any(out.iterdir()):
        return
    manifest = out / "truth" / "manifest.json"
    try:
        previous = read_manifest(manifest) if manifest.exists() else None
    except SndskitError:
        previous = None
    if not previous or previous.get("generator") != "sndskit.synthetic":
        raise SndskitError(
            "output folder is not empty and holds no synthetic dataset: refusing to replace it",
            file=out,
            hint="choose a new or empty folder, or one written by `sndskit synth generate`",
        )


def expected_tables(ctx: GenerationContext) -> dict[str, pa.Schema]:
    """Every table a part writes (possibly empty): name → schema."""
    cfg = ctx.config
    names: dict[str, pa.Schema] = {t: ctx.schemas[t] for t in REFERENTIAL_TABLES}
    if cfg.writes_ben_archive:
        names["IR_BEN_R_ARC"] = ctx.schemas["IR_BEN_R"]
    cutoff = cfg.dcir_suffixed_before
    if not cfg.dcir_yearly_tables:
        names.update({t: ctx.schemas[t] for t in DCIR_TABLES})
    if cutoff is not None and cfg.start_year < cutoff:
        # flux arrive up to 27 months after the end of the period
        for year in range(cfg.start_year, min(cutoff - 1, cfg.end_year + 3) + 1):
            for t in DCIR_TABLES:
                names[f"{t}_{year}"] = ctx.schemas[t]
    for year in cfg.years:
        for t in (*PMSI_TABLES, *(t for t in OPTIONAL_PMSI_TABLES if t in ctx.schemas)):
            names[t.replace("aa", f"{year % 100:02d}")] = ctx.schemas[t]
    for name, schema in TRUTH_SCHEMAS.items():
        names[f"truth/{name}"] = schema
    return names


def _parts(config: GeneratorConfig) -> list[tuple[int, int, int]]:
    """(part, first person, persons) for contiguous ranges of ``part_size`` persons."""
    size = config.effective_part_size
    return [
        (k, first, min(size, config.patients - first))
        for k, first in enumerate(range(0, config.patients, size))
    ]


def _run_parts(ctx, staging, parts, workers, progress) -> list[dict]:
    total = ctx.config.patients
    workers = max(1, min(workers, len(parts)))
    if workers == 1:
        done = 0
        results = []
        for part in parts:

            def tick(n: int) -> None:
                nonlocal done
                done += n
                if progress:
                    progress(done, total)

            results.append(run_part(ctx, staging, *part, tick))
        return results
    mp_ctx = mp.get_context("spawn")
    ticks = mp_ctx.Queue()
    done = 0
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=mp_ctx, initializer=_init_worker, initargs=(ctx, ticks)
    ) as pool:
        futures = {pool.submit(_worker_part, str(staging), *part): part[0] for part in parts}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for f in finished:
                f.result()  # re-raise a worker's error at once
            while True:
                try:
                    done += ticks.get_nowait()
                except queue.Empty:
                    break
            if progress:
                progress(done, total)
        return [f.result() for f in sorted(futures, key=futures.get)]


_WORKER: dict[str, object] = {}


def _init_worker(ctx: GenerationContext, ticks) -> None:
    _WORKER["ctx"] = ctx
    _WORKER["ticks"] = ticks


def _worker_part(staging: str, part: int, first: int, n: int) -> dict:
    ticks = _WORKER["ticks"]
    return run_part(_WORKER["ctx"], Path(staging), part, first, n, ticks.put)


def run_part(
    ctx: GenerationContext,
    staging: Path,
    part: int,
    first: int,
    n: int,
    tick: Callable[[int], None] | None = None,
) -> dict:
    """Generate persons ``first`` … ``first + n - 1`` chunk by chunk into part files."""
    chunk_size = ctx.config.chunk_size
    writer = PartWriter(staging, part, ctx.config.format)
    traps: dict[str, int] = {}
    try:
        for start in range(first, first + n, chunk_size):
            size = min(chunk_size, first + n - start)
            output = generate_chunk(ctx, start // chunk_size, start, size)
            for name, table in output.tables.items():
                writer.write(name, table)
            for name, table in output.truth.items():
                writer.write(f"truth/{name}", table)
                if (name.startswith("traps_") or name == "deaths") and table.num_rows:
                    for item in pc.value_counts(table["trap"].drop_null()).to_pylist():
                        key = f"{name.removeprefix('traps_')}.{item['values']}"
                        traps[key] = traps.get(key, 0) + item["counts"]
            del output
            if tick:
                tick(size)
        rows = writer.close(expected_tables(ctx))
    except BaseException:
        writer.abort()
        raise
    return {"rows": rows, "traps": traps}


def _totals(results: list[dict]) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    rows: dict[str, int] = {}
    truth: dict[str, int] = {}
    traps: dict[str, int] = {}
    for r in results:
        for name, n in r["rows"].items():
            target = truth if name.startswith("truth/") else rows
            key = name.removeprefix("truth/")
            target[key] = target.get(key, 0) + n
        for name, n in r["traps"].items():
            traps[name] = traps.get(name, 0) + n
    return dict(sorted(rows.items())), dict(sorted(truth.items())), dict(sorted(traps.items()))


def _manifest(
    ctx: GenerationContext, store: Path, n_parts: int, rows, truth_rows, trap_rows
) -> dict:
    cfg = ctx.config
    store_manifest = read_manifest(store.parent / "manifest.json") or {}
    return {
        "generator": "sndskit.synthetic",
        "format_version": FORMAT_VERSION,
        "sndskit_version": __version__,
        "seed": cfg.seed,
        "parameters": cfg.model_dump(mode="json"),
        "layout": {
            "format": cfg.format,
            "parts": n_parts,
            "persons_per_part": cfg.effective_part_size,
            "tables": "DIR/<TABLE>/part-NNNNN." + cfg.format,
            "truth": "DIR/truth/<name>/part-NNNNN." + cfg.format,
        },
        "reference_data": {
            "source": ctx.store_source,
            "sources_sha256": {
                name: source.get("sha256")
                for name, source in sorted(store_manifest.get("sources", {}).items())
            },
        },
        "modules": {
            m: {
                "label": module_definition(m).label,
                "sources": [s.model_dump() for s in module_definition(m).sources],
            }
            for m in cfg.modules
        },
        "codes": ctx.codes_manifest,
        "rows": rows,
        "truth_rows": truth_rows,
        "trap_rows": trap_rows,
    }
