"""Golden SQL per event source: the event step each registry module builds, one file per
source, so a change to one source shows in that source's file only
(``SNDSKIT_UPDATE_GOLDEN=1`` rewrites them; review each diff)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sndskit.cohorts.compiler import compile_cohort
from sndskit.cohorts.context import CompileContext
from sndskit.cohorts.spec import CohortSpec
from sndskit.engines.contract import to_sql
from sndskit.snds.sources import SOURCES

GOLDEN = Path(__file__).with_name("golden") / "sources"
CODES = {  # one fictitious code per vocabulary
    "CIP13": ["3400000000017"],
    "CIP7": ["0000001"],
    "UCD": ["3400890000000"],
    "LPP": ["1234567"],
    "CCAM": ["AAFA001"],
    "NABM": ["0552"],
    "CIM10": ["E11"],
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_event_step_of_each_source_matches_its_golden_file(source):
    event = {"source": source}
    if SOURCES[source].takes_codelist:
        event["codelist"] = "list"
    spec = CohortSpec.model_validate(
        {
            "name": source,
            "period": {"start": "2019-01-01", "end": "2019-12-31"},
            "entry": {"events": [event]},
        }
    )
    codes = {"list": {v: CODES[v] for v in SOURCES[source].vocabularies}}
    plan = compile_cohort(CompileContext(spec=spec, codes=codes, pmsi_years=[2019, 2020]))
    step = next(s for s in plan.steps if s.name == "events_1")
    sql = f"-- {step.comment}\n{to_sql(step.query, 'duckdb', pretty=True)}\n"
    path = GOLDEN / f"{source}.duckdb.sql"
    if os.environ.get("SNDSKIT_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(sql, encoding="utf-8")
    assert sql == path.read_text(encoding="utf-8")
