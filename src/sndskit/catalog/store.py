"""Load the catalogue and nomenclature values from the local store."""

from __future__ import annotations

from pathlib import Path

from sqlglot import exp

from sndskit.catalog.catalog import Catalog
from sndskit.catalog.models import NomenclatureInfo, TableInfo
from sndskit.config import store_path
from sndskit.errors import SndskitError
from sndskit.store import NOMENCLATURE_SCHEMA, connect_store

_cache: dict[tuple[str, float], Catalog] = {}


def get_catalog(path: Path | None = None) -> Catalog:
    """The catalogue held in the store (cached until the store file changes)."""
    path = Path(path or store_path())
    con = connect_store(path)
    key = (str(path.resolve()), path.stat().st_mtime)
    try:
        if key not in _cache:
            tables = [
                TableInfo.model_validate_json(row[0])
                for row in con.execute(
                    "SELECT payload FROM catalog_tables ORDER BY name"
                ).fetchall()
            ]
            noms = [
                NomenclatureInfo.model_validate_json(row[0])
                for row in con.execute("SELECT payload FROM nomenclatures ORDER BY name").fetchall()
            ]
            meta = dict(con.execute("SELECT key, value FROM store_info").fetchall())
            _cache.clear()
            _cache[key] = Catalog(
                tables,
                noms,
                is_sample=meta.get("is_sample") == "true",
                source=meta.get("source", ""),
            )
    finally:
        con.close()
    return _cache[key]


def get_nomenclature_values(
    name: str, *, limit: int | None = None, catalog: Catalog | None = None, path: Path | None = None
) -> tuple[NomenclatureInfo, list[str], list[tuple]]:
    """Rows of a reference table: ``(info, column names, rows)``; all values are strings."""
    catalog = catalog or get_catalog(path)
    info = catalog.get_nomenclature_info(name)
    if info.rows is None:
        raise SndskitError(
            f"the values of {info.name} are not public (only its schema is in the snapshot)",
            file=info.source_file,
            hint="load it from your SNDS environment when you have it",
        )
    query = exp.select("*").from_(exp.table_(info.name, db=NOMENCLATURE_SCHEMA, quoted=True))
    if info.code_column:
        code = exp.column(info.code_column, quoted=True)
        numeric = exp.TryCast(this=code.copy(), to=exp.DataType.build("BIGINT"))
        query = query.order_by(exp.Ordered(this=numeric, nulls_first=False), code)
    if limit is not None:
        query = query.limit(limit)
    con = connect_store(path)
    try:
        cursor = con.execute(query.sql(dialect="duckdb"))
        columns = [d[0] for d in cursor.description]
        return info, columns, cursor.fetchall()
    finally:
        con.close()
