"""Printed SQL: golden files per dialect (Oracle is printed for the CNAM portal, not run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlglot

from sndskit.cohorts.compiler import compile_cohort
from sndskit.cohorts.context import CompileContext
from sndskit.cohorts.spec import CohortSpec
from sndskit.specs import parse_spec

GOLDEN = Path(__file__).with_name("golden")
SPEC = """
name: golden
period: {start: 2019-01-01, end: 2020-12-31}
entry:
  events: [{source: drug_dispensing, codelist: drugs}]
  occurrences: {at_least: 3, distinct_dates: true, within_days: 365}
washout_days: 365
inclusion:
  - {name: adult, age: {min: 18}}
  - name: diabetes in hospital
    events: [{source: hospital_diagnosis, codelist: diag, roles: [DP, DAS]}]
    window: {start: -365, end: 0}
exclusion:
  - name: type 1
    events: [{source: long_term_condition, codelist: t1}]
    window: {start: -3650, end: 0}
exit: {at: end_of_exposure, gap_days: 60}
"""
CODES = {
    "drugs": {"CIP13": ["3400000000017"], "CIP7": ["0000001"]},
    "diag": {"CIM10": ["E11", "E119"]},
    "t1": {"CIM10": ["E10"]},
}


def _plan():
    spec = parse_spec(SPEC, CohortSpec)
    return compile_cohort(CompileContext(spec=spec, codes=CODES, pmsi_years=[2018, 2019, 2020]))


@pytest.mark.parametrize("dialect", ["duckdb", "spark", "oracle"])
def test_sql_matches_its_golden_file(dialect):
    sql = _plan().to_sql(dialect)
    path = GOLDEN / f"golden.{dialect}.sql"
    if os.environ.get("SNDSKIT_UPDATE_GOLDEN"):
        path.write_text(sql, encoding="utf-8")
    assert sql == path.read_text(encoding="utf-8")
    sqlglot.parse_one(sql, read=dialect)  # the text parses back in its dialect


def test_oracle_text_uses_oracle_spellings():
    sql = _plan().to_sql("oracle")
    for absent in ("DATEDIFF", "DATE_ADD", "STARTS_WITH", "ARG_MIN", "INTERVAL", " AS p\n"):
        assert absent not in sql
    assert "TO_DATE('2019-01-01', 'YYYY-MM-DD')" in sql and "EXTRACT(YEAR FROM" in sql


def test_every_step_is_commented_and_codes_are_literals():
    sql = _plan().to_sql("duckdb")
    plan = _plan()
    assert all(f"-- {step.name}: " in sql for step in plan.steps)
    assert "'3400000000017'" in sql and "'E119'" in sql


def test_inputs_list_exactly_what_is_read():
    plan = _plan()
    assert set(plan.reads) == {
        "IR_BEN_R",
        "ER_PRS_F",
        "ER_PHA_F",
        "ER_ETE_F",
        "IR_IMB_R",
        *(f"T_MCO{y}{t}" for y in (18, 19, 20) for t in ("B", "C", "D", "UM")),
    }
    assert "PHA_PRS_C13" in plan.reads["ER_PHA_F"] and "MED_MTF_COD" in plan.reads["IR_IMB_R"]
    assert "BEN_DCD_DTE" in plan.reads["IR_BEN_R"]
    assert plan.years == [2018, 2019, 2020]
