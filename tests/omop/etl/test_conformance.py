"""Conformance with the official CDM 5.4 field list (OMOP_CDMv5.4_Field_Level.csv): the
ETL's field resource, the written Parquet schemas, and a load into DuckDB tables created
with the 5.4 DDL types and NOT NULL constraints."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from sndskit.omop.etl.cdm import arrow_schema, cdm_fields, ddl
from sndskit.omop.etl.runner import CDM_TABLES

pytestmark = pytest.mark.shared_data
OFFICIAL = (
    Path(__file__).resolve().parents[4]
    / "shared" / "data" / "omop" / "cdm-5.4" / "OMOP_CDMv5.4_Field_Level.csv"
)  # fmt: skip


@pytest.fixture(scope="module")
def official() -> dict[str, list[dict]]:
    if not OFFICIAL.exists():
        pytest.skip(f"{OFFICIAL} not found")
    out: dict[str, list[dict]] = {}
    with OFFICIAL.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            out.setdefault(row["cdmTableName"].lower(), []).append(row)
    return out


def test_field_resource_matches_the_official_spec(official):
    for table, fields in cdm_fields().items():
        spec = official[table]
        assert [f.name for f in fields] == [r["cdmFieldName"] for r in spec]
        for field, row in zip(fields, spec, strict=True):
            assert field.required == (row["isRequired"] == "Yes"), (table, field.name)
            assert field.datatype == row["cdmDatatype"].lower(), (table, field.name)
            assert field.primary_key == (row["isPrimaryKey"] == "Yes")


def test_every_table_written_with_its_cdm_fields_and_types(converted, official):
    for table in CDM_TABLES:
        schema = pq.read_schema(converted.out / f"{table}.parquet")
        assert schema.names == [r["cdmFieldName"] for r in official[table]]
        assert schema.equals(arrow_schema(table))
        required = [r["cdmFieldName"] for r in official[table] if r["isRequired"] == "Yes"]
        rows = pq.read_table(converted.out / f"{table}.parquet")
        for name in required:
            assert rows.column(name).null_count == 0, (table, name)


def test_output_loads_into_the_official_ddl(converted):
    con = duckdb.connect()
    for table in CDM_TABLES:
        con.execute(ddl(table).sql("duckdb"))
        path = str(converted.out / f"{table}.parquet")
        con.execute(f"INSERT INTO {table} SELECT * FROM read_parquet(?)", [path])
        loaded = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert loaded == pq.read_metadata(path).num_rows
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'drug_exposure'"
        ).fetchall()
    )
    assert types["drug_exposure_id"] == "BIGINT"
    assert types["drug_concept_id"] == "INTEGER"
    assert types["quantity"].startswith("DECIMAL")
    assert types["drug_exposure_start_date"] == "DATE"
