"""SNDS tables in a folder: logical SNDS names → files, matched case-insensitively.

Layouts accepted for a table ``ER_PHA_F``: ``DIR/ER_PHA_F.parquet``, ``DIR/ER_PHA_F/`` (a
folder of Parquet files, Hive partitions allowed) or ``DIR/ER_PHA_F.csv``; an optional
mapping file (YAML ``{logical: physical}``) renames tables. Per-year PMSI tables keep
their year in the name (``T_MCO19B``).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import yaml
from sqlglot import exp

from sndskit.errors import SndskitError

_PMSI_YEAR = re.compile(r"^T_(MCO|SSR|HAD|RIP)(\d{2})([A-Z]+)$")


class DataFolder:
    """The SNDS tables found in a folder."""

    def __init__(self, path: Path | str, mapping: dict[str, str] | Path | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise SndskitError("data folder not found", file=self.path)
        renames = self._mapping(mapping)
        self.tables: dict[str, tuple[str, str]] = {}  # logical → (reader, location)
        for entry in sorted(self.path.iterdir()):
            name, reader, location = self._describe(entry)
            if name:
                logical = renames.get(name, name)
                self.tables[logical] = (reader, location)
        if not self.tables:
            raise SndskitError(
                "no SNDS table in the data folder (expected TABLE.parquet, TABLE/ or TABLE.csv)",
                file=self.path,
            )

    @staticmethod
    def _mapping(mapping: dict[str, str] | Path | None) -> dict[str, str]:
        if mapping is None:
            return {}
        if isinstance(mapping, Path):
            data = yaml.safe_load(mapping.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise SndskitError("expected a mapping logical: physical", file=mapping)
            mapping = data
        return {
            str(physical).upper(): str(logical).upper() for logical, physical in mapping.items()
        }

    @staticmethod
    def _describe(entry: Path) -> tuple[str | None, str, str]:
        if entry.is_dir() and not entry.name.startswith((".", "_")):
            if entry.name.lower() == "truth":
                return None, "", ""
            return entry.name.upper(), "parquet", str(entry / "**" / "*.parquet")
        if entry.suffix.lower() == ".parquet":
            return entry.stem.upper(), "parquet", str(entry)
        if entry.suffix.lower() == ".csv":
            return entry.stem.upper(), "csv", str(entry)
        return None, "", ""

    def has(self, name: str) -> bool:
        return name.upper() in self.tables

    def pmsi_years(self, field: str = "MCO") -> list[int]:
        """Years of the per-year PMSI tables present (``T_MCO19B`` → 2019)."""
        years = set()
        for name in self.tables:
            m = _PMSI_YEAR.match(name)
            if m and m.group(1) == field:
                years.add(2000 + int(m.group(2)))
        return sorted(years)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with one view per table, named by its logical name."""
        con = duckdb.connect()
        for name, (reader, location) in self.tables.items():
            function = "read_parquet" if reader == "parquet" else "read_csv"
            args = [exp.Literal.string(location)]
            if reader == "parquet":
                args.append(exp.EQ(this=exp.column("hive_partitioning"), expression=exp.true()))
            else:
                args.append(exp.EQ(this=exp.column("all_varchar"), expression=exp.true()))
            view = exp.Create(
                this=exp.to_table(name, quoted=True),
                kind="VIEW",
                replace=True,
                expression=exp.select("*").from_(exp.func(function, *args)),
            )
            con.execute(view.sql(dialect="duckdb"))
        return con

    def schema(self, con: duckdb.DuckDBPyConnection | None = None) -> dict[str, dict[str, str]]:
        """Column names and SQL types of every table (read from the file footers)."""
        own = con is None
        con = con or self.connect()
        try:
            return {
                name: {row[0]: row[1] for row in con.execute(f'DESCRIBE "{name}"').fetchall()}
                for name in self.tables
            }
        finally:
            if own:
                con.close()


class DuckDBDatabase(DataFolder):
    """SNDS tables already in a DuckDB database file, matched case-insensitively."""

    def __init__(self, path: Path | str, mapping: dict[str, str] | Path | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SndskitError("DuckDB database not found", file=self.path)
        renames = self._mapping(mapping)
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            names = [
                r[0]
                for r in con.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
                ).fetchall()
            ]
        finally:
            con.close()
        self.tables = {renames.get(n.upper(), n.upper()): ("duckdb", n) for n in sorted(names)}
        if not self.tables:
            raise SndskitError("no table in the DuckDB database", file=self.path)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory connection with the database attached read-only and one view per
        table under its logical SNDS name."""
        con = duckdb.connect()
        con.execute(
            exp.Attach(
                this=exp.alias_(exp.Literal.string(str(self.path)), "src"),
                expressions=[exp.AttachOption(this=exp.var("READ_ONLY"))],
            ).sql(dialect="duckdb")
        )
        for name, (_, physical) in self.tables.items():
            view = exp.Create(
                this=exp.to_table(name, quoted=True),
                kind="VIEW",
                replace=True,
                expression=exp.select("*").from_(
                    exp.table_(physical, db="main", catalog="src", quoted=True)
                ),
            )
            con.execute(view.sql(dialect="duckdb"))
        return con


def open_data(location: Path | str, mapping: dict[str, str] | Path | None = None) -> DataFolder:
    """A data folder, or a DuckDB database file (``.duckdb`` / ``.db``)."""
    path = Path(location)
    if path.suffix.lower() in (".duckdb", ".db"):
        return DuckDBDatabase(path, mapping)
    return DataFolder(path, mapping)
