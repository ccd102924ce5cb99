"""Build the local store from reference data: ``sndskit data import``.

The new store is written to a temporary file beside the old one and renamed over it only
once complete, so a failed import leaves the previous store untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict
from sqlglot import exp

from sndskit import __version__
from sndskit.catalog.loader import load_nomenclature_index, load_tables
from sndskit.catalog.models import NomenclatureInfo, TableInfo
from sndskit.config import (
    SCHEMA_SUBDIR,
    builtin_sample_dir,
    default_reference_dir,
    manifest_path,
    sndskit_home,
    store_path,
)
from sndskit.errors import SndskitError
from sndskit.io import atomic_path, write_json_atomic
from sndskit.store import NOMENCLATURE_SCHEMA, STORE_FORMAT, insert_rows
from sndskit.terminology.build import write_terminology

SOURCE_FOLDERS = (SCHEMA_SUBDIR, "nomensland", "bdpm")
"""Folders of the reference data that the store is built from (each hashed in the manifest)."""

Progress = Callable[[str, int, int], None]
"""Called as ``progress(step description, done, total)``."""


class ImportReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    store: str
    manifest: str
    source: str
    is_sample: bool
    tables: int
    fields: int
    foreign_keys: int
    primary_keys: int
    nomenclatures: int
    nomenclatures_without_values: list[str]
    concepts: dict[str, int]
    seconds: float


def resolve_source(source: Path | None) -> tuple[Path, bool]:
    """The folder to import and whether it is the built-in sample."""
    explicit = source or (
        Path(os.environ["SNDSKIT_REFERENCE_DATA"])
        if os.environ.get("SNDSKIT_REFERENCE_DATA")
        else None
    )
    if explicit is None:
        return default_reference_dir()
    explicit = Path(explicit).expanduser()
    if not (explicit / SCHEMA_SUBDIR / "schemas").is_dir():
        raise SndskitError(
            f"not a reference-data folder: expected {SCHEMA_SUBDIR}/schemas inside it",
            file=explicit,
            hint="point --from at a folder laid out like ../shared/data "
            "or fetched by `sndskit data fetch`",
        )
    return explicit, explicit.resolve() == builtin_sample_dir().resolve()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _source_files(root: Path, files: list[Path]) -> list[tuple[str, int, str]]:
    return [(str(f.relative_to(root)), f.stat().st_size, _sha256(f)) for f in sorted(files)]


def _combined_hash(rows: list[tuple[str, int, str]]) -> str:
    digest = hashlib.sha256()
    for rel, _, sha in rows:
        digest.update(f"{rel}\0{sha}\n".encode())
    return digest.hexdigest()


def _write_catalog(con: duckdb.DuckDBPyConnection, tables: list[TableInfo]) -> None:
    con.execute(
        "CREATE TABLE catalog_tables (name VARCHAR PRIMARY KEY, product VARCHAR, title VARCHAR, "
        "primary_key VARCHAR[], source_file VARCHAR, payload JSON)"
    )
    con.execute(
        "CREATE TABLE catalog_fields (table_name VARCHAR, position INTEGER, name VARCHAR, "
        "type VARCHAR, storage_type VARCHAR, length VARCHAR, description VARCHAR, "
        "nomenclature VARCHAR, nomenclature_column VARCHAR, date_created VARCHAR, "
        "date_deleted VARCHAR)"
    )
    con.execute(
        "CREATE TABLE catalog_foreign_keys (table_name VARCHAR, position INTEGER, "
        "columns VARCHAR[], reference_table VARCHAR, reference_columns VARCHAR[])"
    )
    insert_rows(
        con,
        "catalog_tables",
        [
            (t.name, t.product, t.title, list(t.primary_key), t.source_file, t.model_dump_json())
            for t in tables
        ],
    )
    insert_rows(
        con,
        "catalog_fields",
        [
            (
                t.name,
                i,
                f.name,
                f.type,
                f.storage_type,
                f.length,
                f.description,
                f.nomenclature,
                f.nomenclature_column,
                f.date_created,
                f.date_deleted,
            )
            for t in tables
            for i, f in enumerate(t.fields, start=1)
        ],
    )
    insert_rows(
        con,
        "catalog_foreign_keys",
        [
            (t.name, i, list(fk.fields), fk.reference_table, list(fk.reference_fields))
            for t in tables
            for i, fk in enumerate(t.foreign_keys, start=1)
        ],
    )


def _load_nomenclature(con: duckdb.DuckDBPyConnection, info: NomenclatureInfo) -> NomenclatureInfo:
    """Load one reference CSV as all-VARCHAR (codes keep their leading zeros)."""
    csv_path = Path(info.source_file)
    if csv_path.suffix != ".csv":
        return info  # schema only: the CSV is not public
    target = exp.table_(info.name, db=NOMENCLATURE_SCHEMA, quoted=True).sql(dialect="duckdb")
    try:
        con.execute(
            f"CREATE TABLE {target} AS SELECT * FROM read_csv(?, delim=';', header=true, "
            "all_varchar=true, quote='\"', escape='\"')",
            [str(csv_path)],
        )
    except duckdb.Error as exc:
        raise SndskitError(f"cannot read reference table ({exc})", file=csv_path) from None
    columns = tuple(r[0] for r in con.execute(f"DESCRIBE {target}").fetchall())
    missing = [c for c in (info.code_column, info.label_column) if c and c not in columns]
    if missing:
        raise SndskitError(
            f"column(s) {', '.join(missing)} declared in the JSON schema are absent from the CSV",
            file=csv_path,
            allowed=columns,
        )
    rows = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
    return info.model_copy(update={"rows": rows, "columns": columns})


def import_reference_data(
    source: Path | None = None, *, home: Path | None = None, progress: Progress | None = None
) -> ImportReport:
    """Build ``store.duckdb`` and ``manifest.json`` in ``home`` (default ``$SNDSKIT_HOME``).

    ``source`` defaults to the first reference folder found (see :mod:`sndskit.config`).

    >>> report = import_reference_data()          # doctest: +SKIP
    >>> report.tables                             # doctest: +SKIP
    188
    """
    started = time.perf_counter()
    root, is_sample = resolve_source(source)
    schema_root = root / SCHEMA_SUBDIR / "schemas"
    nomenclature_root = root / SCHEMA_SUBDIR / "nomenclatures"
    notify = progress or (lambda *_: None)

    notify("reading table schemas", 0, 1)
    tables = load_tables(schema_root)  # every error is raised before the store is touched
    nomenclatures = load_nomenclature_index(nomenclature_root)
    files = [
        p
        for folder in SOURCE_FOLDERS
        if (root / folder).is_dir()
        for p in (root / folder).rglob("*")
        if p.is_file()
    ]
    hashed = _source_files(root, files)
    notify("reading table schemas", 1, 1)

    home = Path(home or sndskit_home())
    home.mkdir(parents=True, exist_ok=True)
    with atomic_path(store_path(home), suffix=".duckdb") as tmp:
        tmp.unlink()  # DuckDB creates the file itself
        con = duckdb.connect(str(tmp))
        try:
            _write_catalog(con, tables)
            con.execute(f"CREATE SCHEMA {NOMENCLATURE_SCHEMA}")
            loaded = []
            for i, info in enumerate(nomenclatures, start=1):
                loaded.append(_load_nomenclature(con, info))
                notify("loading nomenclatures", i, len(nomenclatures))
            con.execute(
                "CREATE TABLE nomenclatures (name VARCHAR PRIMARY KEY, folder VARCHAR, "
                "rows BIGINT, payload JSON)"
            )
            insert_rows(
                con,
                "nomenclatures",
                [(n.name, n.folder, n.rows, n.model_dump_json()) for n in loaded],
            )
            notify("loading terminologies", 0, 1)
            concepts = write_terminology(con, root)
            notify("loading terminologies", 1, 1)
            con.execute("CREATE TABLE source_files (path VARCHAR, bytes BIGINT, sha256 VARCHAR)")
            insert_rows(con, "source_files", hashed)
            report = ImportReport(
                store=str(store_path(home)),
                manifest=str(manifest_path(home)),
                source=str(root),
                is_sample=is_sample,
                tables=len(tables),
                fields=sum(len(t.fields) for t in tables),
                foreign_keys=sum(len(t.foreign_keys) for t in tables),
                primary_keys=sum(bool(t.primary_key) for t in tables),
                nomenclatures=len(loaded),
                nomenclatures_without_values=sorted(n.name for n in loaded if n.rows is None),
                concepts=concepts,
                seconds=round(time.perf_counter() - started, 3),
            )
            manifest = _manifest(report, root, hashed)
            con.execute("CREATE TABLE store_info (key VARCHAR PRIMARY KEY, value VARCHAR)")
            insert_rows(
                con,
                "store_info",
                [
                    ("format", str(STORE_FORMAT)),
                    ("is_sample", json.dumps(is_sample)),
                    ("source", str(root)),
                    ("manifest", json.dumps(manifest, ensure_ascii=False)),
                ],
            )
        finally:
            con.close()
    write_json_atomic(manifest_path(home), manifest)
    return report


def _manifest(report: ImportReport, root: Path, hashed: list[tuple[str, int, str]]) -> dict:
    fetch_record = root / "fetch-record.json"
    return {
        "sndskit_version": __version__,
        "store_format": STORE_FORMAT,
        "imported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": str(root),
        "is_sample": report.is_sample,
        "fetch_record": str(fetch_record) if fetch_record.exists() else None,
        "sources": {
            folder: {
                "files": len(rows),
                "bytes": sum(b for _, b, _ in rows),
                "sha256": _combined_hash(rows),
            }
            for folder in SOURCE_FOLDERS
            if (rows := [r for r in hashed if Path(r[0]).parts[0] == folder])
        },
        "counts": {
            "tables": report.tables,
            "fields": report.fields,
            "foreign_keys": report.foreign_keys,
            "primary_keys": report.primary_keys,
            "nomenclatures": report.nomenclatures,
            "nomenclatures_without_values": report.nomenclatures_without_values,
            "concepts": report.concepts,
        },
        "seconds": report.seconds,
    }
