"""The data at hand: its tables, column types, and what a query reads from it.

Queries ask for columns through :meth:`DataSchema.use` (so a missing table or column is a
clear error and the access request lists exactly what is read) and compare codes and dates
through :meth:`text` and :meth:`as_date`, which cast only when the stored type differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from sndskit.errors import SndskitError

_STRING_TYPES = ("VARCHAR", "STRING", "TEXT", "CHAR")


@dataclass
class DataSchema:
    """Columns and SQL types per table (``None`` = no data: assume the catalogue's types)."""

    columns: dict[str, dict[str, str]] | None = None  # table → column → SQL type
    reads: dict[str, set[str]] = field(default_factory=dict)  # table → columns read

    def use(self, table: str, *columns: str) -> None:
        """Record what the query reads (the access request lists exactly this)."""
        known = self.columns.get(table) if self.columns is not None else None
        if self.columns is not None and known is None:
            raise SndskitError(
                f"table {table} is needed but absent from the data",
                field="data",
                allowed=sorted(self.columns),
            )
        for column in columns:
            if known is not None and column not in known:
                from rapidfuzz import process

                near = [m[0] for m in process.extract(column, list(known), limit=3)]
                raise SndskitError(
                    f"column {table}.{column} is needed but absent from the data",
                    field=f"{table}.{column}",
                    hint=f"closest: {', '.join(near)}",
                )
        self.reads.setdefault(table, set()).update(columns)

    def has(self, name: str) -> bool:
        """Is the table there? Without data, every table is assumed present."""
        return self.columns is None or name in self.columns

    def present(self, name: str) -> bool:
        """Is the table known to be in the data? (optional tables: archives …)"""
        return self.columns is not None and name in self.columns

    def has_column(self, table: str, column: str) -> bool:
        return self.columns is None or column in self.columns.get(table, {})

    def is_string(self, table: str, column: str) -> bool:
        if self.columns is None:
            return True  # the catalogue's storage types: identifiers and codes are strings
        kind = self.columns[table].get(column, "VARCHAR").upper()
        return kind.startswith(_STRING_TYPES)

    def is_boolean(self, table: str, column: str) -> bool:
        if self.columns is None:
            return False
        return self.columns[table].get(column, "").upper() in ("BOOLEAN", "BOOL")

    def as_date(self, alias: str, table: str, column: str) -> exp.Expression:
        """A column as DATE, cast only when the data holds it otherwise (a cast on a DATE
        column would stop the scan from skipping row groups by their min/max)."""
        self.use(table, column)
        col = exp.column(column, alias)
        if self.columns is not None and self.columns[table].get(column, "").upper() == "DATE":
            return col
        return exp.cast(col, "DATE")

    def text(self, alias: str, table: str, column: str) -> exp.Expression:
        """A column compared as text (cast only when the data holds it otherwise)."""
        self.use(table, column)
        col = exp.column(column, alias)
        return col if self.is_string(table, column) else exp.cast(col, "VARCHAR")

    def keys_equal(
        self, left: tuple[str, str], right: tuple[str, str], keys: tuple[str, ...]
    ) -> exp.Expression:
        """Key equality; columns typed differently in the two tables are compared as text."""
        (la, lt), (ra, rt) = left, right
        parts = []
        for key in keys:
            self.use(lt, key)
            self.use(rt, key)
            if self.is_string(lt, key) == self.is_string(rt, key):
                parts.append(exp.column(key, la).eq(exp.column(key, ra)))
            else:
                parts.append(self.text(la, lt, key).eq(self.text(ra, rt, key)))
        return exp.and_(*parts)

    def sorted_reads(self) -> dict[str, list[str]]:
        return {table: sorted(columns) for table, columns in sorted(self.reads.items())}
