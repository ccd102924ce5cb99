"""One person-identity query: cohorts, code-list usage and rates count the same persons.

The data plants every identity trap of the SNDS primer §2 with its answer known by design:

- person 1 carries two pseudonyms (one BEN_IDT_ANO): one person, not two;
- persons 2 and 3 are same-sex twins sharing a pseudonym, told apart by BEN_RNG_GEM: two;
- person 4 has a fictitious NIR (BEN_CDI_NIR 05): counted nowhere;
- person 5 lives in IR_BEN_R_ARC only (archived beneficiary): counted, like the others;
- pseudonym 6 is in no beneficiary table: counted nowhere (no person to link to).

Before the shared identity query, code-list usage took MAX per pseudonym without the
fictitious-NIR filter (6 "persons": 1, 2, 3, 4, 5-as-pseudonym, 6-as-pseudonym) while the
cohort took MIN with it (3 persons, archived beneficiary missing).
"""

from __future__ import annotations

from datetime import date

import pyarrow.parquet as pq

from sndskit.codelists.diagnostics import summarise_usage
from sndskit.codelists.export import import_codelist
from sndskit.codelists.model import save_codelist
from sndskit.cohorts.runner import resolve_codelists, run_cohort
from sndskit.cohorts.spec import CohortSpec
from sndskit.cohorts.stats import summarise_rates
from sndskit.engines.datasource import DataFolder
from sndskit.specs import parse_spec
from tests.cohorts.builder import DRUG, SndsBuilder

SPEC = """
name: identity
period: {start: 2019-01-01, end: 2019-12-31}
entry:
  events: [{source: drug_dispensing, codelist: drugs.json}]
"""
EXPECTED = {"P000001", "P000002", "P000003", "P000005"}


def _data(tmp_path) -> DataFolder:
    b = SndsBuilder()
    b.person(1, pseudonyms=2)
    b.dispensing(1, date(2019, 3, 10), pseudonym=0)
    b.dispensing(1, date(2019, 4, 10), pseudonym=1)
    b.person(2)
    b.dispensing(2, date(2019, 5, 10))
    b.person(3, twin_of=2)
    b.dispensing(3, date(2019, 6, 10), twin_of=2)
    b.person(4, cdi="05")
    b.dispensing(4, date(2019, 7, 10))
    b.person(5, archived=True)
    b.dispensing(5, date(2019, 8, 10))
    b.dispensing(6, date(2019, 9, 10))  # nobody's pseudonym
    b.stay(999, date(2019, 6, 1), dp="Z000")
    (tmp_path / "drugs.csv").write_text(f"vocabulary,code\nCIP13,{DRUG}\n")
    save_codelist(import_codelist(tmp_path / "drugs.csv"), tmp_path / "drugs.json")
    return DataFolder(b.write(tmp_path / "data"))


def test_cohort_usage_and_rates_count_the_same_persons(tmp_path, engine):
    data = _data(tmp_path)
    spec = parse_spec(SPEC, CohortSpec)
    codelists = resolve_codelists(spec, tmp_path)
    run = run_cohort(
        spec,
        data,
        tmp_path / "out",
        codelists=codelists,
        threshold=1,
        unsafe_threshold=True,
        engine=engine,
    )
    cohort = {
        r["person_id"]
        for r in pq.read_table(tmp_path / "out" / "private" / "cohort.parquet").to_pylist()
    }
    assert cohort == EXPECTED and run.persons == 4
    listed = [r for r in run.attrition if r["step"] == "persons in the beneficiary table"]
    assert listed[0]["persons"] == 4  # 1, 2, 3 and the archived 5; not the fictitious 4

    usage = summarise_usage(
        codelists["drugs.json"], data, threshold=1, unsafe_threshold=True, engine=engine
    )
    assert [(r["code"], r["year"], r["persons"], r["records"]) for r in usage] == [
        (DRUG, 2019, 4, 5)  # 5 dispensings of the 4 persons (person 1 twice)
    ]

    rates = summarise_rates(
        tmp_path / "out",
        data,
        first_year=2019,
        last_year=2019,
        threshold=1,
        unsafe_threshold=True,
        engine=engine,
    )
    assert sum(r["population"] for r in rates) == 4
    assert sum(r["incident"] for r in rates) == 4
    assert sum(r["prevalent"] for r in rates) == 4


def test_twins_get_their_own_dispensings(tmp_path, engine):
    data = _data(tmp_path)
    spec = parse_spec(SPEC, CohortSpec)
    run_cohort(
        spec,
        data,
        tmp_path / "out",
        codelists=resolve_codelists(spec, tmp_path),
        threshold=1,
        unsafe_threshold=True,
        engine=engine,
    )
    rows = {
        r["person_id"]: r["index_date"]
        for r in pq.read_table(tmp_path / "out" / "private" / "cohort.parquet").to_pylist()
    }
    assert rows["P000002"] == date(2019, 5, 10) and rows["P000003"] == date(2019, 6, 10)
    assert rows["P000001"] == date(2019, 3, 10)  # the first of its two pseudonyms' events
