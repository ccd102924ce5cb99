"""The engine contract: both engines implement it, one factory picks them, unsupported SQL
raises, and a run that fails mid-way leaves no staging folder and the old outputs intact."""

from __future__ import annotations

from datetime import date

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import UnsupportedError

from sndskit.cohorts.runner import resolve_codelists, run_cohort
from sndskit.cohorts.spec import CohortSpec
from sndskit.engines import ENGINES, Engine, open_engine
from sndskit.engines.contract import PlanStep, to_sql
from sndskit.engines.datasource import DataFolder
from sndskit.errors import SndskitError
from sndskit.specs import parse_spec
from tests.cohorts.builder import SndsBuilder
from tests.cohorts.test_cohorts import SPEC, _codelists, three


def _data(tmp_path) -> DataFolder:
    b = SndsBuilder()
    for p in range(1, 4):
        b.person(p)
        three(b, p)
    b.stay(999, date(2019, 6, 1), dp="Z000")
    return DataFolder(b.write(tmp_path / "data"))


def test_each_engine_implements_the_contract_and_runs_a_named_plan(tmp_path, engine):
    runner = open_engine(engine, _data(tmp_path))
    try:
        assert isinstance(runner, Engine) and runner.name == engine and runner.capabilities
        assert "BEN_IDT_ANO" in runner.schema()["IR_BEN_R"]
        seen = []
        runner.run(
            [
                PlanStep("a", "persons", exp.select("BEN_IDT_ANO").from_("IR_BEN_R")),
                PlanStep("b", "count", exp.select(exp.Count(this=exp.Star())).from_("a")),
            ],
            on_step=lambda step, number, total: seen.append((step.name, number, total)),
        )
        assert seen == [("a", 1, 2), ("b", 2, 2)]
        assert runner.fetch(exp.select("*").from_("b")) == [(3,)]
    finally:
        runner.close()


def test_unknown_engine_lists_the_engines(tmp_path):
    with pytest.raises(SndskitError) as error:
        open_engine("postgres", _data(tmp_path))
    assert error.value.allowed == list(ENGINES)


def test_unsupported_constructs_raise_instead_of_a_warning():
    query = sqlglot.parse_one("SELECT x FROM t FOR UPDATE", read="oracle")
    for dialect in ENGINES:
        with pytest.raises(UnsupportedError):
            to_sql(query, dialect)


def test_a_failed_run_leaves_no_staging_folder_and_the_old_outputs(tmp_path, monkeypatch):
    data = _data(tmp_path)
    _codelists(tmp_path)
    spec = parse_spec(SPEC.format(preset="cnam", roles="[DP]", lag=6), CohortSpec)
    codelists = resolve_codelists(spec, tmp_path)
    out = tmp_path / "out"
    run_cohort(spec, data, out, codelists=codelists, threshold=1, unsafe_threshold=True)
    before = (out / "export" / "attrition.csv").read_text()

    from sndskit.engines.duckdb_engine import DuckDBEngine

    def broken(self, name, path, order_by=()):
        path.write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(DuckDBEngine, "write_parquet", broken)
    with pytest.raises(OSError, match="disk full"):
        run_cohort(spec, data, out, codelists=codelists, threshold=1, unsafe_threshold=True)
    assert not (tmp_path / ".out.staging").exists()
    assert (out / "export" / "attrition.csv").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_write_parquet_with_and_without_an_order(tmp_path, engine):
    """Regression: an empty ``order_by`` used to print ``ORDER BY`` with nothing after it."""
    import pyarrow.parquet as pq

    runner = open_engine(engine, _data(tmp_path))
    try:
        query = exp.select("x").from_(exp.values([(3,), (1,), (2,)], alias="v", columns=["x"]))
        runner.run([PlanStep("numbers", "three numbers", query)])
        runner.write_parquet("numbers", tmp_path / "any.parquet")
        runner.write_parquet("numbers", tmp_path / "sorted.parquet", ("x",))
    finally:
        runner.close()
    assert sorted(pq.read_table(tmp_path / "any.parquet").column("x").to_pylist()) == [1, 2, 3]
    assert pq.read_table(tmp_path / "sorted.parquet").column("x").to_pylist() == [1, 2, 3]
