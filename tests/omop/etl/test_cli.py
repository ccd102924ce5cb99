"""`sndskit omop etl` end to end: tables, DuckDB database, summary, clear errors."""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sndskit.errors import SndskitError

pytestmark = pytest.mark.shared_data
runner = CliRunner()


def test_etl_command_writes_the_cdm_and_its_quality(etl_data, converted, tmp_path):
    from sndskit.cli.omop import app

    out, db = tmp_path / "cdm", tmp_path / "cdm.duckdb"
    args = ["etl", "--data", str(etl_data), "--out", str(out), "--duckdb", str(db)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "checks" in result.stdout and "person" in result.stdout
    persons = pq.read_table(out / "person.parquet").num_rows
    assert persons == len(converted.table("person"))
    assert (out / "_etl" / "dqd.json").exists() and (out / "_etl" / "usage.csv").exists()
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM person").fetchone()[0] == persons
    con.close()


def test_unknown_engine_is_a_clear_error(etl_data, tmp_path):
    from sndskit.cli.omop import app

    result = runner.invoke(
        app, ["etl", "--data", str(etl_data), "--out", str(tmp_path / "x"), "--engine", "oracle"]
    )
    assert isinstance(result.exception, SndskitError)
    assert "duckdb" in str(result.exception) and "--engine" in str(result.exception)
    assert not (tmp_path / "x").exists()
