"""DuckDB engine: materialises plan steps as temporary tables over a data folder's views."""

from __future__ import annotations

from pathlib import Path

from sqlglot import exp

from sndskit.engines.datasource import DataFolder


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, data: DataFolder) -> None:
        self.data = data
        self.con = data.connect()

    def schema(self) -> dict[str, dict[str, str]]:
        return self.data.schema(self.con)

    def materialise(self, name: str, query: exp.Expression) -> None:
        create = exp.Create(
            this=exp.to_table(name),
            kind="TABLE",
            expression=query.copy(),
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        )
        self.con.execute(create.sql(dialect="duckdb"))

    def count(self, name: str) -> tuple[int, int]:
        query = exp.select(
            exp.Count(this=exp.Distinct(expressions=[exp.column("person_id")])),
            exp.Count(this=exp.Star()),
        ).from_(name)
        persons, records = self.con.execute(query.sql(dialect="duckdb")).fetchone()
        return int(persons), int(records)

    def rows(self, name: str, columns: list[str]) -> list[tuple]:
        query = exp.select(*columns).from_(name).order_by(*columns[:2])
        return self.con.execute(query.sql(dialect="duckdb")).fetchall()

    def write_parquet(self, name: str, path: Path) -> None:
        query = (
            exp.select("*").from_(name).order_by("person_id", "index_date").sql(dialect="duckdb")
        )
        self.con.execute(f"COPY ({query}) TO '{path.as_posix()}' (FORMAT parquet)")

    def close(self) -> None:
        self.con.close()
