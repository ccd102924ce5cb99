"""Spark engine: the same plan as DuckDB, run as Spark SQL over temporary views.

Local mode by default (``local[2]``); a master URL or an existing SparkSession serves a
cluster. Tables come from the data folder (Parquet folders or files, CSV).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

import pyarrow.parquet as pq
from sqlglot import exp

from sndskit.engines.contract import PlanStep, StepDone, run_steps, to_sql
from sndskit.engines.datasource import DataFolder
from sndskit.errors import SndskitError


def spark_session(master: str | None = None):
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SndskitError(
            "the Spark engine needs pyspark", hint="pip install 'sndskit[spark]' (Java 17 required)"
        ) from None
    master = master or "local[2]"
    builder = SparkSession.builder.master(master)
    if master.startswith("local"):  # keep saved tables out of the working directory
        warehouse = tempfile.mkdtemp(prefix="sndskit-spark-warehouse-")
        builder = builder.config("spark.sql.warehouse.dir", warehouse)
    return (
        builder.appName("sndskit")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


class SparkEngine:
    name = "spark"
    dialect = "spark"
    capabilities = frozenset({"temp_views", "parquet_in", "parquet_out", "catalog_tables"})

    def __init__(self, data: DataFolder, *, master: str | None = None, session=None) -> None:
        self.data = data
        self.spark = session or spark_session(master)
        self._frames = {}
        self._cached = []
        for name, (reader, location) in data.tables.items():
            if reader == "parquet":
                frame = self.spark.read.parquet(location.replace("/**/*.parquet", ""))
            elif reader == "csv":
                frame = self.spark.read.option("header", True).csv(location)
            elif reader == "spark":
                frame = self.spark.table(location)
            else:
                raise SndskitError(
                    f"the Spark engine cannot read {reader} tables",
                    file=data.path,
                    allowed=["Parquet/CSV folders", "tables of the Spark catalog"],
                )
            frame.createOrReplaceTempView(name)
            self._frames[name] = frame

    def schema(self) -> dict[str, dict[str, str]]:
        return {
            name: {c: t.upper() for c, t in frame.dtypes} for name, frame in self._frames.items()
        }

    def _sql(self, query: exp.Expression) -> str:
        return to_sql(query, self.dialect)

    def materialise(self, name: str, query: exp.Expression, keep: str = "table") -> None:
        frame = self.spark.sql(self._sql(query))
        if keep == "table":
            frame = frame.cache()
        frame.createOrReplaceTempView(name)
        self._cached.append((name, frame))

    def run(self, steps: Iterable[PlanStep], on_step: StepDone | None = None) -> None:
        run_steps(self, steps, on_step)

    def register_parquet(self, name: str, path: Path) -> None:
        frame = self.spark.read.parquet(str(path))
        frame.createOrReplaceTempView(name)
        self._frames[name] = frame

    def fetch(self, query: exp.Expression) -> list[tuple]:
        return [tuple(r) for r in self.spark.sql(self._sql(query)).collect()]

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
        pq.write_table(self.spark.sql(query).toArrow(), path)

    def close(self) -> None:
        for name, frame in self._cached:
            frame.unpersist()
            self.spark.catalog.dropTempView(name)
        for name in self._frames:
            self.spark.catalog.dropTempView(name)


class SparkCatalogData(DataFolder):
    """SNDS tables already registered in a Spark catalog (a database of the session)."""

    def __init__(
        self, session, database: str | None = None, mapping: dict[str, str] | Path | None = None
    ) -> None:
        self.path = Path(f"spark-catalog/{database or 'default'}")
        renames = self._mapping(mapping)
        listed = session.catalog.listTables(database) if database else session.catalog.listTables()
        self.tables = {
            renames.get(t.name.upper(), t.name.upper()): (
                "spark",
                f"{database}.{t.name}" if database else t.name,
            )
            for t in listed
        }
        if not self.tables:
            raise SndskitError(f"no table in the Spark catalog database {database or 'default'}")

    def connect(self):
        raise SndskitError(
            "tables of a Spark catalog are read by the Spark engine",
            field="engine",
            allowed=["spark"],
        )
