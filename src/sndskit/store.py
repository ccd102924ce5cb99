"""The local store: one DuckDB database plus ``manifest.json`` in ``$SNDSKIT_HOME``.

Only :mod:`sndskit.refdata.importer` writes it; every other module reads it through
:func:`connect_store`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from sndskit.config import manifest_path, store_path
from sndskit.errors import SndskitError

STORE_FORMAT = 1
NOMENCLATURE_SCHEMA = "nomenclature"


def connect_store(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open the store read-only; a clear error says how to build it when it is missing."""
    path = Path(path or store_path())
    if not path.exists():
        raise SndskitError(
            "no local store yet", file=path, hint="run `sndskit data import` to build it"
        )
    return duckdb.connect(str(path), read_only=True)


def read_manifest(path: Path | None = None) -> dict[str, Any] | None:
    path = Path(path or manifest_path())
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SndskitError(f"corrupt manifest ({exc.msg})", file=path, line=exc.lineno) from None


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Bulk insert through Arrow (DuckDB's executemany is row-by-row and slow)."""
    if not rows:
        return
    columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    batch = pa.table(
        dict(zip(columns, (list(col) for col in zip(*rows, strict=True)), strict=True))
    )
    con.register("_rows", batch)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
    finally:
        con.unregister("_rows")
