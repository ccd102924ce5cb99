"""OMOP vocabulary store: Athena files (tab- or comma-separated) loaded into DuckDB.

An Athena download is a folder of ``CONCEPT.csv``, ``CONCEPT_RELATIONSHIP.csv``,
``CONCEPT_ANCESTOR.csv``, ``CONCEPT_SYNONYM.csv``, ``VOCABULARY.csv``, ``DOMAIN.csv`` …
Athena writes them tab-separated, unquoted, with dates as ``YYYYMMDD``; extracts made by
other tools are often comma-separated, quoted, with ISO dates. :func:`load_vocabulary`
sniffs each file's header and first row (delimiter, date format), then lets DuckDB stream
it (``read_csv`` with explicit CDM 5.4 column types): memory stays bounded by DuckDB's
``memory_limit`` whatever the file size. A malformed row stops the load with an error
naming the file, line and column; the previous database is left untouched because the new
one is built beside it and renamed over it only once complete.

When a folder has no ``CONCEPT_ANCESTOR`` file (small extracts), the ancestor table is
derived from the ``Is a`` / ``Subsumes`` relationships (transitive closure) and the
database records that it was derived.
"""

from __future__ import annotations

import csv
import os
import re
import time
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict

from sndskit.config import sndskit_home
from sndskit.errors import SndskitError

# CDM 5.4 vocabulary tables, columns in Athena file order, DuckDB types
# (checked against OMOP_CDMv5.4_Field_Level.csv by tests/omop/test_vocabulary.py).
VOCAB_TABLES: dict[str, dict[str, str]] = {
    "concept": {
        "concept_id": "INTEGER",
        "concept_name": "VARCHAR",
        "domain_id": "VARCHAR",
        "vocabulary_id": "VARCHAR",
        "concept_class_id": "VARCHAR",
        "standard_concept": "VARCHAR",
        "concept_code": "VARCHAR",
        "valid_start_date": "DATE",
        "valid_end_date": "DATE",
        "invalid_reason": "VARCHAR",
    },
    "concept_relationship": {
        "concept_id_1": "INTEGER",
        "concept_id_2": "INTEGER",
        "relationship_id": "VARCHAR",
        "valid_start_date": "DATE",
        "valid_end_date": "DATE",
        "invalid_reason": "VARCHAR",
    },
    "concept_ancestor": {
        "ancestor_concept_id": "INTEGER",
        "descendant_concept_id": "INTEGER",
        "min_levels_of_separation": "INTEGER",
        "max_levels_of_separation": "INTEGER",
    },
    "concept_synonym": {
        "concept_id": "INTEGER",
        "concept_synonym_name": "VARCHAR",
        "language_concept_id": "INTEGER",
    },
    "vocabulary": {
        "vocabulary_id": "VARCHAR",
        "vocabulary_name": "VARCHAR",
        "vocabulary_reference": "VARCHAR",
        "vocabulary_version": "VARCHAR",
        "vocabulary_concept_id": "INTEGER",
    },
    "domain": {"domain_id": "VARCHAR", "domain_name": "VARCHAR", "domain_concept_id": "INTEGER"},
    "concept_class": {
        "concept_class_id": "VARCHAR",
        "concept_class_name": "VARCHAR",
        "concept_class_concept_id": "INTEGER",
    },
    "relationship": {
        "relationship_id": "VARCHAR",
        "relationship_name": "VARCHAR",
        "is_hierarchical": "VARCHAR",
        "defines_ancestry": "VARCHAR",
        "reverse_relationship_id": "VARCHAR",
        "relationship_concept_id": "INTEGER",
    },
    "drug_strength": {
        "drug_concept_id": "INTEGER",
        "ingredient_concept_id": "INTEGER",
        "amount_value": "DOUBLE",
        "amount_unit_concept_id": "INTEGER",
        "numerator_value": "DOUBLE",
        "numerator_unit_concept_id": "INTEGER",
        "denominator_value": "DOUBLE",
        "denominator_unit_concept_id": "INTEGER",
        "box_size": "INTEGER",
        "valid_start_date": "DATE",
        "valid_end_date": "DATE",
        "invalid_reason": "VARCHAR",
    },
}
REQUIRED_TABLES = ("concept",)
FILE_SUFFIXES = (".csv", ".tsv", ".txt")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMPACT_DATE = re.compile(r"^\d{8}$")


def default_vocabulary_db() -> Path:
    """``$SNDSKIT_HOME/omop/vocabulary.duckdb``."""
    return sndskit_home() / "omop" / "vocabulary.duckdb"


class FileFormat(BaseModel):
    """What the sniffer found in one Athena file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path
    table: str
    delimiter: str
    header: list[str]
    date_format: str | None  # strptime format of its date columns, None if it has none


class TableLoad(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str
    file: str
    rows: int
    delimiter: str
    date_format: str | None
    seconds: float
    derived: bool = False


class VocabularyLoad(BaseModel):
    """What :func:`load_vocabulary` did: one entry per table, total time, database path."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    db: Path
    tables: list[TableLoad]
    seconds: float

    def rows(self, table: str) -> int:
        return next((t.rows for t in self.tables if t.table == table), 0)


def find_vocabulary_files(directory: Path) -> dict[str, Path]:
    """Map each known table to its file in ``directory`` (``CONCEPT.csv``, ``concept.tsv`` …)."""
    found: dict[str, Path] = {}
    for path in sorted(Path(directory).iterdir()):
        stem, suffix = path.stem.lower(), path.suffix.lower()
        if path.is_file() and suffix in FILE_SUFFIXES and stem in VOCAB_TABLES:
            found.setdefault(stem, path)
    return found


def _first_lines(path: Path, count: int = 2) -> list[str]:
    lines = []
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        for line in handle:
            lines.append(line.rstrip("\r\n"))
            if len(lines) == count:
                break
    return lines


def sniff_file(path: Path, table: str) -> FileFormat:
    """Delimiter (tab or comma), header and date format of an Athena file."""
    lines = _first_lines(path)
    if not lines or not lines[0].strip():
        raise SndskitError("empty file, expected a header line", file=path, line=1)
    header_line = lines[0].lstrip("\ufeff")
    delimiter = "\t" if "\t" in header_line else ","
    header = [h.strip().strip('"').lower() for h in header_line.split(delimiter)]
    expected = VOCAB_TABLES[table]
    missing = [c for c in expected if c not in header]
    if missing:
        raise SndskitError(
            f"missing column {missing[0]!r} in the header of a {table.upper()} file",
            file=path,
            line=1,
            field=missing[0],
            allowed=list(expected),
        )
    date_format = None
    date_columns = [c for c, t in expected.items() if t == "DATE"]
    if date_columns and len(lines) > 1:
        values = next(csv.reader([lines[1]], delimiter=delimiter), [])
        sample = dict(zip(header, values, strict=False)).get(date_columns[0], "").strip()
        if _COMPACT_DATE.match(sample):
            date_format = "%Y%m%d"
        elif _ISO_DATE.match(sample):
            date_format = "%Y-%m-%d"
        elif sample:
            raise SndskitError(
                f"unrecognised date {sample!r}",
                file=path,
                line=2,
                field=date_columns[0],
                allowed=["YYYYMMDD", "YYYY-MM-DD"],
            )
    return FileFormat(
        path=path, table=table, delimiter=delimiter, header=header, date_format=date_format
    )


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _read_csv_sql(fmt: FileFormat, rejects: str) -> str:
    """``read_csv(...)`` over one file with explicit column types (no type sniffing)."""
    expected = VOCAB_TABLES[fmt.table]
    columns = ", ".join(
        f"{_sql_string(name)}: {_sql_string(expected.get(name, 'VARCHAR'))}" for name in fmt.header
    )
    options = [
        "header = true",
        f"delim = {_sql_string(fmt.delimiter)}",
        # Athena's tab files are unquoted (names may contain '"'); comma files are quoted.
        "quote = ''" if fmt.delimiter == "\t" else "quote = '\"'",
        "escape = ''" if fmt.delimiter == "\t" else "escape = '\"'",
        f"columns = {{{columns}}}",
        "auto_detect = false",
        "null_padding = false",
        "store_rejects = true",
        f"rejects_table = {_sql_string(rejects + '_errors')}",
        f"rejects_scan = {_sql_string(rejects + '_scans')}",
        "rejects_limit = 20",
    ]
    if fmt.date_format:
        options.append(f"dateformat = {_sql_string(fmt.date_format)}")
    return f"read_csv({_sql_string(str(fmt.path))}, {', '.join(options)})"


def _raise_first_reject(con: duckdb.DuckDBPyConnection, fmt: FileFormat, rejects: str) -> None:
    row = con.execute(
        f"SELECT line, column_name, error_type, error_message FROM {rejects}_errors "
        "ORDER BY line LIMIT 1"
    ).fetchone()
    if row is None:
        return
    line, column, error_type, message = row
    expected = VOCAB_TABLES[fmt.table]
    first = (message or "").splitlines()[0] if message else str(error_type)
    allowed = None
    if column in expected:
        kind = expected[column]
        allowed = [f"{kind} ({fmt.date_format or 'no date format'})" if kind == "DATE" else kind]
    raise SndskitError(
        f"malformed {fmt.table.upper()} row ({error_type}): {first}",
        file=fmt.path,
        line=int(line),
        field=column or None,
        allowed=allowed,
    )


def _load_table(con: duckdb.DuckDBPyConnection, fmt: FileFormat) -> TableLoad:
    start = time.perf_counter()
    rejects = f"rejects_{fmt.table}"
    columns = ", ".join(VOCAB_TABLES[fmt.table])
    try:
        con.execute(
            f"CREATE TABLE {fmt.table} AS SELECT {columns} FROM {_read_csv_sql(fmt, rejects)}"
        )
    except duckdb.Error as exc:  # structural problems the reject store cannot hold
        raise SndskitError(
            f"cannot read {fmt.table.upper()} file: {str(exc).splitlines()[0]}", file=fmt.path
        ) from None
    _raise_first_reject(con, fmt, rejects)
    rows = con.execute(f"SELECT count(*) FROM {fmt.table}").fetchone()[0]
    return TableLoad(
        table=fmt.table,
        file=fmt.path.name,
        rows=rows,
        delimiter="tab" if fmt.delimiter == "\t" else "comma",
        date_format=fmt.date_format,
        seconds=round(time.perf_counter() - start, 3),
    )


def _create_empty(con: duckdb.DuckDBPyConnection, table: str) -> None:
    columns = ", ".join(f"{c} {t}" for c, t in VOCAB_TABLES[table].items())
    con.execute(f"CREATE TABLE {table} ({columns})")


DERIVE_ANCESTOR_SQL = """
CREATE TABLE concept_ancestor AS
WITH RECURSIVE edges(parent, child) AS (
    SELECT concept_id_2, concept_id_1 FROM concept_relationship
    WHERE relationship_id = 'Is a' AND invalid_reason IS NULL AND concept_id_1 <> concept_id_2
    UNION
    SELECT concept_id_1, concept_id_2 FROM concept_relationship
    WHERE relationship_id = 'Subsumes' AND invalid_reason IS NULL AND concept_id_1 <> concept_id_2
),
walk(ancestor, descendant, depth) AS (
    SELECT parent, child, 1 FROM edges
    UNION
    SELECT w.ancestor, e.child, w.depth + 1
    FROM walk AS w JOIN edges AS e ON e.parent = w.descendant
    WHERE w.depth < 40
)
SELECT ancestor AS ancestor_concept_id, descendant AS descendant_concept_id,
       CAST(min(depth) AS INTEGER) AS min_levels_of_separation,
       CAST(max(depth) AS INTEGER) AS max_levels_of_separation
FROM walk WHERE ancestor <> descendant GROUP BY ALL
UNION ALL
SELECT concept_id, concept_id, 0, 0 FROM concept WHERE standard_concept = 'S'
"""


def load_vocabulary(
    directory: str | Path,
    db: str | Path | None = None,
    *,
    memory_limit: str = "2GB",
    threads: int | None = None,
) -> VocabularyLoad:
    """Load every Athena file found in ``directory`` into a new DuckDB database ``db``.

    Tables absent from the folder are created empty (``concept`` is required); a missing
    ``CONCEPT_ANCESTOR`` is derived from ``Is a``/``Subsumes`` relationships.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SndskitError("not a directory", file=directory, hint="give an Athena download")
    files = find_vocabulary_files(directory)
    for table in REQUIRED_TABLES:
        if table not in files:
            raise SndskitError(
                f"no {table.upper()} file in the vocabulary folder",
                file=directory,
                allowed=[f"{t.upper()}.csv" for t in VOCAB_TABLES],
            )
    formats = [sniff_file(path, table) for table, path in files.items()]
    target = Path(db) if db else default_vocabulary_db()
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f".{target.name}.building")
    for leftover in (building, building.with_name(building.name + ".wal")):
        leftover.unlink(missing_ok=True)
    start = time.perf_counter()
    loads: list[TableLoad] = []
    con = duckdb.connect(str(building))
    try:
        con.execute(f"SET memory_limit = {_sql_string(memory_limit)}")
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"SET temp_directory = {_sql_string(str(building) + '.tmp')}")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        for fmt in formats:
            loads.append(_load_table(con, fmt))
        for table in VOCAB_TABLES:
            if table not in files and table != "concept_ancestor":
                _create_empty(con, table)
        if "concept_ancestor" not in files:
            t0 = time.perf_counter()
            con.execute(DERIVE_ANCESTOR_SQL)
            rows = con.execute("SELECT count(*) FROM concept_ancestor").fetchone()[0]
            loads.append(
                TableLoad(
                    table="concept_ancestor",
                    file="(derived from Is a / Subsumes)",
                    rows=rows,
                    delimiter="",
                    date_format=None,
                    seconds=round(time.perf_counter() - t0, 3),
                    derived=True,
                )
            )
        elapsed = round(time.perf_counter() - start, 3)
        con.execute(
            "CREATE TABLE sndskit_vocabulary_load (table_name VARCHAR, file VARCHAR, "
            "row_count BIGINT, delimiter VARCHAR, date_format VARCHAR, seconds DOUBLE, "
            "derived BOOLEAN, source_dir VARCHAR, loaded_at TIMESTAMP)"
        )
        for t in loads:
            con.execute(
                "INSERT INTO sndskit_vocabulary_load VALUES (?, ?, ?, ?, ?, ?, ?, ?, now())",
                [
                    t.table,
                    t.file,
                    t.rows,
                    t.delimiter,
                    t.date_format,
                    t.seconds,
                    t.derived,
                    str(directory.resolve()),
                ],
            )
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        building.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(building, target)
    return VocabularyLoad(db=target, tables=loads, seconds=elapsed)


def connect_vocabulary(db: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open a loaded vocabulary database read-only (clear error when it does not exist)."""
    path = Path(db) if db else default_vocabulary_db()
    if not path.exists():
        raise SndskitError(
            "no OMOP vocabulary database yet",
            file=path,
            hint="run `sndskit omop vocab load DIR` with an Athena download",
        )
    return duckdb.connect(str(path), read_only=True)


def describe_concepts(con: duckdb.DuckDBPyConnection, concept_ids) -> dict[int, dict]:
    """Name, vocabulary, domain, class, standard flag, validity of each known concept id."""
    ids = sorted({int(i) for i in concept_ids if i})
    if not ids:
        return {}
    rows = con.execute(
        "SELECT concept_id, concept_name, vocabulary_id, domain_id, concept_class_id, "
        "standard_concept, invalid_reason, valid_end_date FROM concept "
        "WHERE concept_id IN (SELECT unnest(?))",
        [ids],
    ).fetchall()
    keys = (
        "concept_name",
        "vocabulary_id",
        "domain_id",
        "concept_class_id",
        "standard_concept",
        "invalid_reason",
        "valid_end_date",
    )
    return {row[0]: dict(zip(keys, row[1:], strict=True)) for row in rows}


def source_concept_ids(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    """``(vocabulary, code) → concept_id`` of the local source concepts (ids > 2e9)."""
    rows = con.execute(
        "SELECT vocabulary_id, concept_code, concept_id FROM concept "
        "WHERE concept_id > 2000000000 AND vocabulary_id <> 'Vocabulary'"
    ).fetchall()
    return {(v, c): i for v, c, i in rows}


def vocabulary_summary(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Concepts per vocabulary: total, standard, invalid."""
    rows = con.execute(
        "SELECT vocabulary_id, count(*), count(*) FILTER (standard_concept = 'S'), "
        "count(*) FILTER (invalid_reason IS NOT NULL) FROM concept GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall()
    return [{"vocabulary_id": v, "concepts": n, "standard": s, "invalid": i} for v, n, s, i in rows]


__all__ = [
    "VOCAB_TABLES",
    "VocabularyLoad",
    "connect_vocabulary",
    "default_vocabulary_db",
    "describe_concepts",
    "find_vocabulary_files",
    "load_vocabulary",
    "sniff_file",
    "source_concept_ids",
    "vocabulary_summary",
]
