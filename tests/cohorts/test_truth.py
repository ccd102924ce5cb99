"""Cohorts reproduce the planted truth of the synthetic SNDS (sensitivity and PPV).

The data carry every trap at its default rate (and the AP-HP/AP-HM/HCL duplicates in every
year); the expected persons are computed here in Python from the truth files only, with the
same clinical rule as the cohort spec. Persons SNDS itself cannot resolve (fictitious NIR,
PMSI pseudonyms unknown to IR_BEN_R, twins sharing a pseudonym) are left out of the
comparison on both sides.
"""

from __future__ import annotations

from datetime import date, timedelta
from importlib import resources
from itertools import pairwise
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from sndskit.cohorts.runner import resolve_codelists, run_cohort
from sndskit.cohorts.spec import CohortSpec
from sndskit.config import store_path
from sndskit.engines.datasource import DataFolder
from sndskit.specs import load_spec

pytestmark = pytest.mark.shared_data
EXAMPLES = Path(str(resources.files("sndskit") / "resources" / "cohorts" / "examples"))


@pytest.fixture(scope="module")
def synthetic(real_home, tmp_path_factory):
    from sndskit.synthetic.generator import generate
    from sndskit.synthetic.spec import GeneratorConfig

    out = tmp_path_factory.mktemp("synthetic") / "data"
    config = GeneratorConfig(
        patients=12000,
        start_year=2019,
        end_year=2022,
        seed=11,
        chunk_size=6000,
        part_size=12000,
        finess_duplicates_all_years=True,
    )
    generate(config, out, store=store_path(real_home), workers=1)
    return out, store_path(real_home)


def _truth(folder: Path, name: str, sql: str) -> list[tuple]:
    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW t AS SELECT * FROM read_parquet('{folder / 'truth' / name}/**/*.parquet')"
    )
    return con.execute(sql).fetchall()


def _unresolvable(folder: Path) -> set[str]:
    rows = _truth(
        folder,
        "traps_persons",
        "SELECT BEN_IDT_ANO FROM t WHERE trap IN ('fictitious_nir', 'unknown_nir_ano', 'twin')",
    )
    return {r[0] for r in rows}


def _run(spec_name: str, synthetic, tmp_path) -> tuple[CohortSpec, dict, dict]:
    folder, store = synthetic
    spec = load_spec(EXAMPLES / f"{spec_name}.yaml", CohortSpec)
    codelists = resolve_codelists(spec, EXAMPLES, store=store)
    run_cohort(
        spec,
        DataFolder(folder),
        tmp_path / "out",
        codelists=codelists,
        threshold=1,
        unsafe_threshold=True,
    )
    rows = pq.read_table(tmp_path / "out" / "private" / "cohort.parquet").to_pylist()
    return spec, {r["person_id"]: r for r in rows}, codelists


def _scores(expected: set[str], found: set[str]) -> tuple[float, float]:
    hits = len(expected & found)
    return hits / len(expected), hits / len(found)


def test_hospitalised_acs_reproduces_the_true_stays(synthetic, tmp_path):
    folder, _ = synthetic
    spec, cohort, codelists = _run("acs_hospitalised", synthetic, tmp_path)
    codes = set(codelists["acute_coronary_syndrome"].codes("CIM10"))
    stays = _truth(folder, "stays", "SELECT BEN_IDT_ANO, DGN_PAL, admission_date FROM t")
    expected = {
        p for p, dp, day in stays if dp in codes and spec.period.start <= day <= spec.period.end
    }
    skip = _unresolvable(folder)
    sensitivity, ppv = _scores(expected - skip, set(cohort) - skip)
    assert len(expected - skip) >= 20
    print(f"ACS: sensitivity {sensitivity:.3f}, PPV {ppv:.3f}")
    assert sensitivity >= 0.97 and ppv >= 0.97, (sensitivity, ppv)


def test_treated_t2d_reproduces_the_true_dispensings(synthetic, tmp_path):
    folder, _ = synthetic
    spec, cohort, codelists = _run("t2d_treated", synthetic, tmp_path)
    codes = set(codelists["t2d_drugs"].codes("CIP13"))
    rows = _truth(folder, "dispensings", "SELECT DISTINCT BEN_IDT_ANO, date, code FROM t")
    births = dict(_truth(folder, "persons", "SELECT BEN_IDT_ANO, year(birth_date) FROM t"))
    days: dict[str, set[date]] = {}
    for person, day, code in rows:
        if code in codes:
            days.setdefault(person, set()).add(day)
    expected = {}
    for person, dates in days.items():  # ≥ 3 distinct dates within 365 days, first in period
        ordered = sorted(dates)
        for i, day in enumerate(ordered[:-2]):
            if (
                ordered[i + 2] - day <= timedelta(days=365)
                and spec.period.start <= day <= spec.period.end
            ):
                if day.year - births[person] >= 18:
                    expected[person] = day
                break
    skip = _unresolvable(folder)
    sensitivity, ppv = _scores(set(expected) - skip, set(cohort) - skip)
    assert len(set(expected) - skip) >= 50
    print(f"T2D: sensitivity {sensitivity:.3f}, PPV {ppv:.3f}")
    assert sensitivity >= 0.95 and ppv >= 0.97, (sensitivity, ppv)
    same_index = [p for p in set(expected) & set(cohort) if expected[p] == cohort[p]["index_date"]]
    assert len(same_index) >= 0.95 * len(set(expected) & set(cohort))


@pytest.mark.parametrize("codelist", ["stroke", "heart_failure", "copd", "breast_cancer"])
def test_hospitalised_cohorts_of_the_other_modules(synthetic, tmp_path, codelist):
    """Persons with a true stay whose principal diagnosis is in the list, in the period."""
    from sndskit.specs import parse_spec

    folder, store = synthetic
    spec = parse_spec(
        f"""
name: {codelist}_hospitalised
period: {{start: 2020-01-01, end: 2022-12-31}}
entry:
  events: [{{source: hospital_diagnosis, codelist: {codelist}, roles: [DP]}}]
""",
        CohortSpec,
    )
    codelists = resolve_codelists(spec, EXAMPLES, store=store)
    run_cohort(
        spec,
        DataFolder(folder),
        tmp_path / "out",
        codelists=codelists,
        threshold=1,
        unsafe_threshold=True,
    )
    cohort = {
        r["person_id"]
        for r in pq.read_table(tmp_path / "out" / "private" / "cohort.parquet").to_pylist()
    }
    codes = set(codelists[codelist].codes("CIM10"))
    stays = _truth(folder, "stays", "SELECT BEN_IDT_ANO, DGN_PAL, admission_date, kind FROM t")
    expected = {
        p
        for p, dp, day, kind in stays
        if dp in codes and spec.period.start <= day <= spec.period.end and kind != "session"
    }
    skip = _unresolvable(folder)
    sensitivity, ppv = _scores(expected - skip, cohort - skip)
    print(f"{codelist}: {len(expected - skip)} true, sensitivity {sensitivity:.3f}, PPV {ppv:.3f}")
    assert len(expected - skip) >= 10
    assert sensitivity >= 0.97 and ppv >= 0.97, (sensitivity, ppv)


def test_antidepressant_treated_cohort_reproduces_the_true_dispensings(synthetic, tmp_path):
    """The depression module's treatments: ≥ 2 dispensings on distinct dates within 180 days."""
    from sndskit.specs import parse_spec

    folder, store = synthetic
    (tmp_path / "antidepressants.yaml").write_text(
        """
name: antidepressants
description: antidepressants of the depression module
vocabularies: [CIP13]
rules:
  - {id: ad, vocabulary: SUBSTANCE, terms: [escitalopram, sertraline, paroxétine, venlafaxine]}
""",
        encoding="utf-8",
    )
    spec = parse_spec(
        """
name: treated_depression
period: {start: 2020-01-01, end: 2022-12-31}
entry:
  events: [{source: drug_dispensing, codelist: antidepressants.yaml}]
  occurrences: {at_least: 2, distinct_dates: true, within_days: 180}
""",
        CohortSpec,
    )
    codelists = resolve_codelists(spec, tmp_path, store=store)
    run_cohort(
        spec,
        DataFolder(folder),
        tmp_path / "out",
        codelists=codelists,
        threshold=1,
        unsafe_threshold=True,
    )
    cohort = {
        r["person_id"]: r["index_date"]
        for r in pq.read_table(tmp_path / "out" / "private" / "cohort.parquet").to_pylist()
    }
    codes = set(codelists["antidepressants.yaml"].codes("CIP13"))
    days: dict[str, set[date]] = {}
    for person, day, code in _truth(
        folder, "dispensings", "SELECT DISTINCT BEN_IDT_ANO, date, code FROM t"
    ):
        if code in codes:
            days.setdefault(person, set()).add(day)
    expected = {}
    for person, dates in days.items():
        ordered = sorted(dates)
        for first, second in pairwise(ordered):
            if (
                second - first <= timedelta(days=180)
                and spec.period.start <= first <= spec.period.end
            ):
                expected[person] = first
                break
    skip = _unresolvable(folder)
    sensitivity, ppv = _scores(set(expected) - skip, set(cohort) - skip)
    true_cases = len(set(expected) - skip)
    print(f"antidepressants: {true_cases} true, sensitivity {sensitivity:.3f}, PPV {ppv:.3f}")
    assert len(set(expected) - skip) >= 50
    assert sensitivity >= 0.95 and ppv >= 0.97, (sensitivity, ppv)
    assert sum(expected[p] == cohort[p] for p in set(expected) & set(cohort)) >= 0.95 * len(
        set(expected) & set(cohort)
    )
