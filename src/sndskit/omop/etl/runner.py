"""Run the SNDS → OMOP-CDM 5.4 conversion on DuckDB or Spark and write the tables.

``OUT/<table>.parquet`` for each CDM table (Arrow types of the CDM fields), and
``OUT/_etl/``: ``manifest.json`` (options, rows and seconds per table, warnings, inputs),
``usage.csv`` (records per source code, for ``sndskit omop quality --usage``),
``coverage.csv`` and the data-quality results (``dqd.json``, ``dqd.html``). The folder is
built aside and swapped in when complete.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlglot import exp

from sndskit import __version__
from sndskit.disclosure import DEFAULT_THRESHOLD
from sndskit.engines.datasource import DataFolder, DuckDBDatabase
from sndskit.errors import SndskitError
from sndskit.io import replace_directory
from sndskit.omop.etl import tables as t
from sndskit.omop.etl.cdm import arrow_schema, cdm_fields
from sndskit.omop.etl.codemap import CODE_MAP_SCHEMA, code_map_values, write_code_map
from sndskit.omop.etl.publish import write_quality
from sndskit.omop.etl.sql import for_dialect
from sndskit.omop.etl.staging import build_staging, compile_context

Progress = Callable[[str, int, int], None]
CDM_TABLES = (
    "person",
    "death",
    "visit_occurrence",
    "observation_period",
    "condition_occurrence",
    "drug_exposure",
    "procedure_occurrence",
    "measurement",
    "care_site",
    "provider",
    "cost",
    "cdm_source",
)


class EtlOptions(BaseModel):
    """Choices of the conversion, each documented in docs/omop_etl.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: date = date(1900, 1, 1)  # every record (ALD registrations go back decades)
    end: date = date(2099, 12, 31)
    quality_filters: Literal["cnam", "scalpel", "minimal", "none"] = "cnam"
    flux_lag_months: int = Field(default=6, ge=0, le=27)
    finess_duplicates: Literal["finess_46", "finess_166", "none"] = "finess_46"
    vocabulary_version: str = "unknown"
    release_date: date = Field(default_factory=date.today)
    threshold: int = Field(default=DEFAULT_THRESHOLD, ge=0)

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


def _engine(name: str, data: DataFolder, spark_session=None, spark_master: str | None = None):
    if name == "duckdb":
        from sndskit.engines.duckdb_engine import DuckDBEngine

        return DuckDBEngine(data)
    if name == "spark":
        from sndskit.engines.spark_engine import SparkEngine

        return SparkEngine(data, master=spark_master, session=spark_session)
    raise SndskitError(f"unknown engine {name!r}", field="engine", allowed=["duckdb", "spark"])


def plan_tables(options: EtlOptions, steps: set[str]) -> list[tuple[str, object]]:
    """CDM steps in execution order (each reads only earlier steps)."""
    return [
        ("cdm_person", t.person()),
        ("cdm_death", t.death()),
        ("cdm_visit_occurrence", t.visit_occurrence()),
        ("etl_span", t.span()),
        ("cdm_observation_period", t.observation_period()),
        ("cdm_condition_occurrence", t.condition_occurrence("etl_ald_periods" in steps)),
        ("cdm_drug_exposure", t.drug_exposure()),
        ("cdm_procedure_occurrence", t.procedure_occurrence()),
        ("cdm_measurement", t.measurement()),
        ("cdm_care_site", t.care_site()),
        ("cdm_provider", t.provider()),
        ("cdm_cost", t.cost()),
        (
            "cdm_cdm_source",
            t.cdm_source(options.release_date.isoformat(), options.vocabulary_version),
        ),
    ]


def _write(engine, table: str, path: Path) -> int:
    """Write a CDM table through the engine's own Parquet writer (no row passes through
    Python), ordered by ``person_id`` (when the table has it) then its key, which makes the
    order total and the file identical on every engine; the columns are then cast batch by
    batch to the CDM's Arrow types."""
    fields = cdm_fields()[table]
    key = next((f.name for f in fields if f.primary_key), fields[0].name)
    order = ("person_id", key) if any(f.name == "person_id" for f in fields) else (key,)
    order = tuple(dict.fromkeys(order))
    raw = path.with_name(f".{path.stem}.raw.parquet")
    engine.write_parquet(f"cdm_{table}", raw, order_by=order)
    schema, rows = arrow_schema(table), 0
    with pq.ParquetWriter(path, schema) as writer:
        for batch in pq.ParquetFile(raw).iter_batches(batch_size=65_536):
            part = pa.Table.from_batches([batch]).select(schema.names)
            writer.write_table(part.cast(schema))
            rows += part.num_rows
    raw.unlink()
    return rows


def run_etl(
    data: DataFolder,
    out: Path,
    *,
    code_map: pa.Table | None = None,
    options: EtlOptions | None = None,
    engine: str = "duckdb",
    spark_session=None,
    spark_master: str | None = None,
    progress: Progress | None = None,
    extra_manifest: dict | None = None,
    vocab_db: Path | None = None,
) -> dict:
    """Convert ``data`` to CDM 5.4 tables in ``out``; returns the manifest."""
    options = options or EtlOptions()
    notify = progress or (lambda *_: None)
    started = time.perf_counter()
    out = Path(out)
    work = Path(tempfile.mkdtemp(prefix="sndskit-etl-"))
    try:
        table = code_map if code_map is not None else CODE_MAP_SCHEMA.empty_table()
        map_path = write_code_map(table, work / "map.parquet")
        as_view = not isinstance(data, DuckDBDatabase)  # its views all read the database
        if as_view:
            data.tables["OMOP_CODE_MAP"] = ("parquet", str(map_path))
        runner = _engine(engine, data, spark_session, spark_master)
        if not as_view:
            runner.materialise("OMOP_CODE_MAP", code_map_values(table))
        try:
            ctx = compile_context(
                runner.schema(),
                data.pmsi_years(),
                start=options.start,
                end=options.end,
                quality_filters=options.quality_filters,
                flux_lag_months=options.flux_lag_months,
                finess_duplicates=options.finess_duplicates,
            )
            staging = build_staging(ctx)
            steps = [(s.name, s.query) for s in staging.steps]
            steps += plan_tables(options, {name for name, _ in steps})
            timings: dict[str, float] = {}
            for i, (name, query) in enumerate(steps, start=1):
                notify(name, i, len(steps))
                t0 = time.perf_counter()
                runner.materialise(name, for_dialect(query, runner.name))
                timings[name] = round(time.perf_counter() - t0, 3)
            staging_dir = out.with_name(f".{out.name}.staging")
            if staging_dir.exists():
                shutil.rmtree(staging_dir)
            (staging_dir / "_etl").mkdir(parents=True)
            rows: dict[str, int] = {}
            for name in CDM_TABLES:
                t0 = time.perf_counter()
                rows[name] = _write(runner, name, staging_dir / f"{name}.parquet")
                timings[f"write_{name}"] = round(time.perf_counter() - t0, 3)
        finally:
            runner.close()
            data.tables.pop("OMOP_CODE_MAP", None)
        shutil.copy(work / "map.parquet", staging_dir / "_etl" / "code_map.parquet")
        manifest = {
            "sndskit_version": __version__,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "engine": engine,
            "options": options.model_dump(mode="json"),
            "data": {"path": str(data.path), "tables": sorted(data.tables)},
            "rows": rows,
            "warnings": staging.warnings,
            "inputs": {k: sorted(v) for k, v in sorted(ctx.reads.items())},
            "timings_seconds": {"total": round(time.perf_counter() - started, 3), **timings},
            **(extra_manifest or {}),
        }
        dqd = write_quality(staging_dir, options.threshold, vocab_db)
        manifest["quality"] = dqd["Overview"]
        (staging_dir / "_etl" / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n",
            encoding="utf-8",
        )
        replace_directory(staging_dir, out)
        return manifest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def export_duckdb(out: Path, db: Path) -> Path:
    """The written tables in a DuckDB database with the official 5.4 DDL (built beside the
    target and renamed over it)."""
    import duckdb

    from sndskit.io import atomic_path
    from sndskit.omop.etl.cdm import ddl

    with atomic_path(db, suffix=".duckdb") as tmp:
        tmp.unlink()  # DuckDB creates its own file
        con = duckdb.connect(str(tmp))
        try:
            for name in CDM_TABLES:
                con.execute(ddl(name).sql("duckdb"))
                insert = exp.Insert(
                    this=exp.to_table(name),
                    expression=exp.select("*").from_(
                        exp.func(
                            "read_parquet", exp.Literal.string(str(Path(out) / f"{name}.parquet"))
                        )
                    ),
                )
                con.execute(insert.sql("duckdb"))
        finally:
            con.close()
    return db
