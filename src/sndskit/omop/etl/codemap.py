"""``OMOP_CODE_MAP``: source code → source concept and standard targets, as a Parquet table
the engines join (one row per target; a code without a usable target has one row with
``concept_id = 0``), with the units per box of CIP13 packs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from sndskit.omop.etl.sql import literal
from sndskit.omop.mappings import Mapping, MappingType
from sndskit.omop.quality import normalise_code
from sndskit.omop.vocabulary import describe_concepts
from sndskit.synthetic.boxes import pack_units

CODE_MAP_SCHEMA = pa.schema(
    [
        ("vocabulary", pa.string()),
        ("code", pa.string()),
        ("source_concept_id", pa.int32()),
        ("concept_id", pa.int32()),
        ("units", pa.int32()),
    ]
)


def pack_sizes(store: Path | None) -> dict[str, int]:
    """Units per box of each CIP13 presentation, read from its BDPM label in the store."""
    if store is None or not Path(store).exists():
        return {}
    con = duckdb.connect(str(store), read_only=True)
    try:
        rows = con.execute(
            "SELECT code, label FROM concepts WHERE vocabulary = 'CIP13' AND label IS NOT NULL"
        ).fetchall()
    except duckdb.CatalogException:
        return {}
    finally:
        con.close()
    return {code: units for code, label in rows if (units := pack_units(label))}


def standard_targets(
    mappings: Iterable[Mapping], vocab: duckdb.DuckDBPyConnection | None
) -> tuple[dict[tuple[str, str], set[int]], int]:
    """Usable "Maps to" targets per normalised source code; with a vocabulary database, only
    standard valid targets are kept (the count of dropped rows is returned)."""
    targets: dict[tuple[str, str], set[int]] = {}
    for m in mappings:
        if m.is_mapped and m.mapping_type == MappingType.MAPS_TO:
            key = (m.source_vocabulary, normalise_code(m.source_vocabulary, m.source_code))
            targets.setdefault(key, set()).add(m.target_concept_id)
    if vocab is None:
        return targets, 0
    concepts = describe_concepts(vocab, {t for ts in targets.values() for t in ts})
    dropped = 0
    kept: dict[tuple[str, str], set[int]] = {}
    for key, ids in targets.items():
        good = {
            i
            for i in ids
            if concepts.get(i, {}).get("standard_concept") == "S"
            and not concepts[i].get("invalid_reason")
        }
        dropped += len(ids) - len(good)
        if good:
            kept[key] = good
    return kept, dropped


def build_code_map(
    targets: dict[tuple[str, str], set[int]],
    source_ids: dict[tuple[str, str], int],
    units: dict[str, int],
) -> pa.Table:
    columns: dict[str, list] = {name: [] for name in CODE_MAP_SCHEMA.names}
    keys = set(targets) | set(source_ids) | {("CIP13", c) for c in units}
    for vocabulary, code in sorted(keys):
        for target in sorted(targets.get((vocabulary, code), {0})):
            columns["vocabulary"].append(vocabulary)
            columns["code"].append(code)
            columns["source_concept_id"].append(source_ids.get((vocabulary, code), 0))
            columns["concept_id"].append(target)
            columns["units"].append(units.get(code) if vocabulary == "CIP13" else None)
    return pa.table(columns, schema=CODE_MAP_SCHEMA)


def code_map_values(table: pa.Table) -> exp.Select:
    """The code map as a VALUES query, for sources whose views cannot read a Parquet file
    (a DuckDB database); typed even when empty."""
    types = {"vocabulary": "VARCHAR", "code": "VARCHAR", "source_concept_id": "INT",
             "concept_id": "INT", "units": "INT"}  # fmt: skip
    typed = [exp.alias_(exp.cast(exp.column(n), t), n) for n, t in types.items()]
    rows = [exp.Tuple(expressions=[literal(v) for v in row.values()]) for row in table.to_pylist()]
    if not rows:
        return exp.select(
            *(exp.alias_(exp.cast(exp.null(), t), n) for n, t in types.items())
        ).where(exp.false())
    values = exp.Values(expressions=rows, alias=exp.TableAlias(
        this=exp.to_identifier("v"), columns=[exp.to_identifier(n) for n in types]))  # fmt: skip
    return exp.select(*typed).from_(values)


def write_code_map(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path)
    return path


def vocabulary_version(vocab: duckdb.DuckDBPyConnection | None) -> str:
    """The Athena release (``VOCABULARY`` row ``None``), as cdm_source records it."""
    if vocab is None:
        return "unknown"
    try:
        row = vocab.execute(
            "SELECT vocabulary_version FROM vocabulary WHERE vocabulary_id = 'None'"
        ).fetchone()
    except duckdb.Error:
        return "unknown"
    return (row[0] if row and row[0] else "unknown")[:20]


def prepare_code_map(
    mappings: Iterable[Mapping],
    source_ids: dict[tuple[str, str], int],
    *,
    vocab: duckdb.DuckDBPyConnection | None = None,
    store: Path | None = None,
) -> tuple[pa.Table, dict]:
    """The code map and what it holds (codes, targets, targets dropped as non-standard)."""
    targets, dropped = standard_targets(mappings, vocab)
    table = build_code_map(targets, source_ids, pack_sizes(store))
    summary = {
        "codes": len(
            {
                (v, c)
                for v, c in zip(
                    table["vocabulary"].to_pylist(), table["code"].to_pylist(), strict=True
                )
            }
        ),
        "codes_with_target": len(targets),
        "targets_dropped_not_standard": dropped,
        "source_concepts": len(source_ids),
        "cip13_pack_sizes": sum(1 for u in table["units"].to_pylist() if u),
    }
    return table, summary
