"""DuckDB engine: materialises plan steps as temporary tables over a data folder's views."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlglot import exp

from sndskit.engines.contract import PlanStep, StepDone, run_steps, to_sql
from sndskit.engines.datasource import DataFolder


class DuckDBEngine:
    name = "duckdb"
    dialect = "duckdb"
    capabilities = frozenset({"temp_tables", "parquet_in", "parquet_out", "database_files"})

    def __init__(self, data: DataFolder, *, master: str | None = None, session=None) -> None:
        del master, session  # Spark options: no meaning here
        self.data = data
        self.con = data.connect()

    def schema(self) -> dict[str, dict[str, str]]:
        return self.data.schema(self.con)

    def _sql(self, query: exp.Expression) -> str:
        return to_sql(query, self.dialect)

    def materialise(self, name: str, query: exp.Expression, keep: str = "table") -> None:
        create = exp.Create(
            this=exp.to_table(name),
            kind="VIEW" if keep == "view" else "TABLE",
            replace=True,
            expression=query.copy(),
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        )
        self.con.execute(self._sql(create))

    def run(self, steps: Iterable[PlanStep], on_step: StepDone | None = None) -> None:
        run_steps(self, steps, on_step)

    def register_parquet(self, name: str, path: Path) -> None:
        view = exp.Create(
            this=exp.to_table(name),
            kind="VIEW",
            replace=True,
            expression=exp.select("*").from_(
                exp.func("read_parquet", exp.Literal.string(str(path)))
            ),
        )
        self.con.execute(self._sql(view))

    def fetch(self, query: exp.Expression) -> list[tuple]:
        return self.con.execute(self._sql(query)).fetchall()

    def count(self, name: str) -> tuple[int, int]:
        query = exp.select(
            exp.Count(this=exp.Distinct(expressions=[exp.column("person_id")])),
            exp.Count(this=exp.Star()),
        ).from_(name)
        persons, records = self.fetch(query)[0]
        return int(persons), int(records)

    def rows(self, name: str, columns: list[str]) -> list[tuple]:
        return self.fetch(exp.select(*columns).from_(name).order_by(*columns[:2]))

    def write_parquet(self, name: str, path: Path, order_by: tuple[str, ...] = ()) -> None:
        select = exp.select("*").from_(name)
        query = self._sql(select.order_by(*order_by) if order_by else select)
        target = exp.Literal.string(path.as_posix()).sql(self.dialect)
        self.con.execute(f"COPY ({query}) TO {target} (FORMAT parquet)")

    def close(self) -> None:
        self.con.close()
