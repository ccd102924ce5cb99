"""The nine findings of the disclosure review (issue #12), each replayed as the attack it
describes on outputs of `cohort run` / `cohort stats` written by sndskit with default settings.
The planted data fixes every true count; the attacks use only the published files."""

from __future__ import annotations

import csv
import itertools
import json
import shutil
from datetime import date

import numpy as np
import pytest
from scipy.optimize import linprog
from typer.testing import CliRunner

from sndskit.cli import app
from sndskit.codelists.export import import_codelist
from sndskit.codelists.model import save_codelist
from sndskit.cohorts.outputs import publish_stats
from sndskit.cohorts.runner import resolve_codelists, run_cohort
from sndskit.cohorts.spec import CohortSpec
from sndskit.cohorts.stats import count_rates
from sndskit.disclosure import DisclosureError
from sndskit.disclosure.publish import read_png_data
from sndskit.disclosure.scan import check_export
from sndskit.engines.datasource import DataFolder
from sndskit.errors import SndskitError
from sndskit.specs import parse_spec
from tests.cohorts.builder import OTHER_DRUG, T1D, SndsBuilder
from tests.cohorts.test_cohorts import SPEC, _codelists, three

# (persons, birth year, sex, index year): counts by index year × age band × sex are
# 2019: men 40-64 = 3, men 65-74 = 2, women 75-84 = 14, women 85+ = 20; 2020: men 40-64 = 11.
PLANTED = [(3, 1960, 1, 2019), (2, 1950, 1, 2019), (14, 1940, 2, 2019), (20, 1930, 2, 2019)]
PLANTED += [(11, 1960, 1, 2020)]
UNTREATED = 40


def build(folder, t1d_das: int = 0):
    """The planted cohort; ``t1d_das`` women aged 85+ get a type 1 diabetes DAS before index."""
    b, person = SndsBuilder(), 0
    for n, birth, sex, year in PLANTED:
        for _ in range(n):
            person += 1
            b.person(person, birth_year=birth, sex=sex)
            three(b, person, start=date(year, 3, 1))
            if birth == 1930 and t1d_das > 0:
                b.stay(person, date(year, 1, 15), dp="Z000", das=[T1D])
                t1d_das -= 1
    for k in range(UNTREATED):
        person += 1
        b.person(person, birth_year=1945 + k, sex=1 + k % 2)
    b.stay(999, date(2019, 6, 1), dp="Z000")
    _codelists(folder)
    return DataFolder(b.write(folder / "data"))


def spec(roles="[DP]"):
    return parse_spec(SPEC.format(preset="cnam", roles=roles, lag=6), CohortSpec)


def read_csv(path):
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module", params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def published(request, tmp_path_factory):
    """One default run + stats on each engine; its own SNDSKIT_HOME (ledger)."""
    engine = request.param
    if engine == "spark":
        request.getfixturevalue("spark_session")
    root = tmp_path_factory.mktemp(f"findings-{engine}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SNDSKIT_HOME", str(root / "home"))
        data = build(root)
        cohort = spec()
        out = root / "out"
        run_cohort(cohort, data, out, codelists=resolve_codelists(cohort, root), engine=engine)
        shutil.copytree(out / "export", root / "run_export")  # what `cohort run` released
        rates = count_rates(out, data, first_year=2019, last_year=2020, engine=engine)
        publish_stats(out, rates, data, threshold=10)
        # the same data, a cohort nobody enters (finding 2's baseline): its code list holds a
        # drug nobody received
        lists = root / "empty_lists"
        _codelists(lists)
        (lists / "drugs.csv").write_text(f"vocabulary,code\nCIP13,{OTHER_DRUG}\n")
        save_codelist(import_codelist(lists / "drugs.csv"), lists / "drugs.json")
        empty = root / "empty"
        run_cohort(cohort, data, empty, codelists=resolve_codelists(cohort, lists), engine=engine)
        empty_rates = count_rates(empty, data, first_year=2019, last_year=2020, engine=engine)
        publish_stats(root / "empty", empty_rates, data, threshold=10)
    return out, data, rates


def _attrition_and_counts(export):
    attrition = read_csv(export / "attrition.csv")
    counts = read_csv(export / "counts.csv")
    return attrition, counts


def test_1_one_run_final_total_minus_visible_cells(tmp_path, engine):
    data = build(tmp_path)
    cohort = spec()
    run_cohort(
        cohort, data, tmp_path / "out", codelists=resolve_codelists(cohort, tmp_path), engine=engine
    )
    attrition, counts = _attrition_and_counts(tmp_path / "out" / "export")
    final = attrition[-1]["persons"]
    hidden = [r for r in counts if r["persons"] == "masked"]
    assert hidden  # men 40-64 (3) and 65-74 (2) are small
    if final != "masked":
        rest = int(final) - sum(int(r["persons"]) for r in counts if r["persons"] != "masked")
        assert len(hidden) > 1 and not 1 <= rest <= 10  # old code: 50 − 14 − 20 − 11 = 5 men
    # every published step: removed persons between two visible steps are not 1–10
    shown = [int(r["persons"]) for r in attrition if r["persons"] != "masked"]
    visible_pairs = [
        (int(a["persons"]), int(b["persons"]))
        for a, b in itertools.pairwise(attrition)
        if "masked" not in (a["persons"], b["persons"])
    ]
    assert shown and all(not 1 <= a - b <= 10 for a, b in visible_pairs)


def test_2_person_years_are_masked_with_their_cases_and_rounded(published):
    out, _, _ = published
    rates = read_csv(out / "export" / "rates.csv")
    assert any(r["masked"] == "masked" for r in rates)
    for row in rates:
        if row["masked"]:
            assert row["person_years"] == row["population"] == row["prevalent"] == "masked"
        else:
            assert float(row["person_years"]) % 10 == 0  # rounded to the threshold's unit
    # the attack: person-years of an empty cohort (every alive person's full year) minus this
    # cohort's ≈ person-time already in the cohort, i.e. its prevalent count
    empty = {
        (r["year"], r["age_band"], r["sex"]): r
        for r in read_csv(out.parent / "empty" / "export" / "rates.csv")
    }
    recovered = [
        row
        for row in rates
        if row["prevalent"] == "masked"
        and "masked"
        not in (
            row["person_years"],
            empty[(row["year"], row["age_band"], row["sex"])]["person_years"],
        )
    ]
    assert not recovered


def test_3_prevalent_minus_incident_is_not_a_small_count(published):
    out, _, raw = published
    pairs = [(2020, "40-64", "male")]  # planted: prevalent 14, incident 11 in 2020
    truth = {(r["year"], r["age_band"], r["sex"]): r for r in raw}
    assert (truth[pairs[0]]["prevalent"], truth[pairs[0]]["incident"]) == (14, 11)
    for name in ("rates.csv", "rates_by_year_sex.csv"):
        for row in read_csv(out / "export" / name):
            if row["masked"] == "":
                assert not 1 <= int(row["prevalent"]) - int(row["incident"]) <= 10


def test_4_counts_and_rates_mask_the_same_strata(published):
    out, _, _ = published
    counts = {
        (r["year"], r["age_band"], r["sex"]): r["persons"] == "masked"
        for r in read_csv(out / "export" / "counts.csv")
    }
    rates = {
        (r["year"], r["age_band"], r["sex"]): r["masked"] == "masked"
        for r in read_csv(out / "export" / "rates.csv")
    }
    common = set(counts) & set(rates)
    assert common and all(counts[k] == rates[k] for k in common)


def test_4b_stats_keeps_what_the_run_already_released(published):
    out, _, _ = published
    for name in ("attrition.csv", "counts.csv"):
        before = read_csv(out.parent / "run_export" / name)
        after = read_csv(out / "export" / name)
        assert before == after  # nothing newly hidden, nothing newly shown


def test_5_the_ledger_refuses_a_nested_definition_differing_by_a_few_persons(tmp_path, engine):
    data = build(tmp_path, t1d_das=4)
    wide, narrow = spec("[DP]"), spec("[DP, DR, DAS]")  # the DAS excludes 4 more women
    codelists = resolve_codelists(wide, tmp_path)
    run_cohort(wide, data, tmp_path / "a", codelists=codelists, engine=engine)
    with pytest.raises(DisclosureError, match="differs by 4"):
        run_cohort(narrow, data, tmp_path / "b", codelists=codelists, engine=engine)
    assert not (tmp_path / "b").exists()  # nothing written
    run_cohort(narrow, data, tmp_path / "b", codelists=codelists, force=True, engine=engine)
    manifest = json.loads((tmp_path / "b" / "export" / "manifest.json").read_text())
    assert manifest["disclosure"]["ledger"]["forced"]
    assert manifest["disclosure"]["ledger"]["overrides"]


def test_6_thresholds_are_validated_stated_and_flags_are_honest(tmp_path, engine):
    data = build(tmp_path)
    cohort = spec()
    codelists = resolve_codelists(cohort, tmp_path)
    for bad in (0, -1):
        with pytest.raises(SndskitError, match="positive whole number"):
            run_cohort(cohort, data, tmp_path / "x", codelists=codelists, threshold=bad)
    with pytest.raises(SndskitError, match="unsafe-threshold"):
        run_cohort(cohort, data, tmp_path / "x", codelists=codelists, threshold=5)
    out = tmp_path / "out"
    run_cohort(
        cohort, data, out, codelists=codelists, threshold=5, unsafe_threshold=True, engine=engine
    )
    rates = count_rates(out, data, first_year=2019, last_year=2020, engine=engine)
    publish_stats(out, rates, data, threshold=5, unsafe=True)
    export = out / "export"
    for name in ("attrition.csv", "counts.csv", "rates.csv", "rates_by_year_sex.csv"):
        rows = read_csv(export / name)
        assert rows and all(r["threshold"] == "5" for r in rows)
    for row in read_csv(export / "rates.csv"):
        assert (row["masked"] == "masked") == (row["incident"] == "masked")
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["disclosure"]["threshold"] == manifest["stats"]["threshold"] == 5
    assert "UNSAFE" in manifest["disclosure"]["note"]["en"]
    assert read_png_data(export / "rates.png")["threshold"] == 5
    result = CliRunner().invoke(
        app, ["cohort", "stats", str(out), "--data", str(data.path), "--threshold", "0"]
    )
    assert result.exit_code != 0
    warned = CliRunner().invoke(
        app,
        [
            "cohort",
            "stats",
            str(out),
            "--data",
            str(data.path),
            "--threshold",
            "5",
            "--unsafe-threshold",
        ],
    )
    assert warned.exit_code == 0 and "UNSAFE threshold 5" in warned.output
    assert "person-level" in warned.output and "releasable" in warned.output  # which is which


def test_8_person_level_files_are_apart(published):
    out, _, _ = published
    assert (out / "private" / "cohort.parquet").exists()
    assert not list((out / "export").glob("*.parquet"))
    reports = check_export(out / "export", move=False)
    assert reports and all(r.status == "pass" for r in reports), [
        (r.file, r.problems, r.notes) for r in reports if r.status != "pass"
    ]


def test_9_one_label_and_wide_intervals_from_the_published_files(published):
    out, _, _ = published
    export = out / "export"
    text = "".join(p.read_text() for p in export.glob("*.csv"))
    assert "1-10" not in text and "primary" not in text and "secondary" not in text
    # An attacker's LP written from the files alone: final = Σ counts, cells ≥ 0.
    attrition, counts = _attrition_and_counts(export)
    hidden = [r for r in counts if r["persons"] == "masked"]
    final = attrition[-1]["persons"]
    if final != "masked" and hidden:
        rest = int(final) - sum(int(r["persons"]) for r in counts if r["persons"] != "masked")
        ones = np.ones((1, len(hidden)))
        for i in range(len(hidden)):
            c = np.zeros(len(hidden))
            c[i] = 1
            low = linprog(c, A_eq=ones, b_eq=[rest], bounds=(0, None), method="highs").fun
            high = -linprog(-c, A_eq=ones, b_eq=[rest], bounds=(0, None), method="highs").fun
            assert high - low >= 10
    manifest = json.loads((export / "manifest.json").read_text())
    audit = manifest["disclosure"]["audit"]
    assert audit["passed"] and audit["narrowest_interval"] >= 10
