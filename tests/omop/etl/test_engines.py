"""Ids are stable across runs, and DuckDB and Spark write identical tables."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from sndskit.omop.etl.runner import CDM_TABLES

from .conftest import convert

pytestmark = pytest.mark.shared_data


def _same_tables(a, b) -> None:
    for table in CDM_TABLES:
        left = pq.read_table(a / f"{table}.parquet")
        right = pq.read_table(b / f"{table}.parquet")
        assert left.num_rows == right.num_rows, table
        assert left.equals(right), table


def test_ids_are_stable_across_runs(
    converted, etl_data, real_home, vocab_db, etl_mappings, tmp_path
):
    again = convert(etl_data, real_home, vocab_db, etl_mappings, tmp_path / "again")
    _same_tables(converted.out, again.out)
    ids = [r["person_id"] for r in converted.table("person")]
    assert all(0 < i < 2**63 for i in ids)


@pytest.mark.spark
def test_spark_writes_the_same_tables(
    converted, etl_data, real_home, vocab_db, etl_mappings, tmp_path, spark_session
):
    spark = convert(
        etl_data, real_home, vocab_db, etl_mappings, tmp_path / "spark",
        engine="spark", spark_session=spark_session,
    )  # fmt: skip
    _same_tables(converted.out, spark.out)
    assert spark.manifest["rows"] == converted.manifest["rows"]


def test_a_duckdb_database_gives_the_same_tables(
    converted, etl_data, real_home, vocab_db, etl_mappings, tmp_path
):
    import duckdb

    db = tmp_path / "snds.duckdb"
    con = duckdb.connect(str(db))
    for table in sorted(p for p in etl_data.iterdir() if p.is_dir() and p.name != "truth"):
        source = str(table / "*.parquet")
        con.execute(f'CREATE TABLE "{table.name}" AS SELECT * FROM read_parquet(?)', [source])
    con.close()
    again = convert(db, real_home, vocab_db, etl_mappings, tmp_path / "from_db", data_opener=True)
    _same_tables(converted.out, again.out)
