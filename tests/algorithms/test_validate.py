"""Algorithms run on synthetic data and are measured against the planted truth.

Every expected value is recomputed here in Python (pyarrow) from the truth files and the run's
``private/persons.parquet`` — never from the code under test: the 2×2 table, the Wilson intervals
(closed form), the masking of small cells, and for two rules the persons the rule itself
should find (treated diabetes, hospitalised ACS).
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, timedelta

import pyarrow.parquet as pq
import pytest

from sndskit.algorithms import list_algorithms, measure, run_algorithm
from sndskit.algorithms.validate import as_evidence, validate_persons
from sndskit.engines.datasource import DataFolder
from sndskit.errors import SndskitError

pytestmark = pytest.mark.shared_data
Z = 1.959963984540054
METRICS = {  # metric → (numerator cell, other cell of its denominator), ReDSiam grid
    "sensitivity": ("tp", "fn"),
    "specificity": ("tn", "fp"),
    "ppv": ("tp", "fp"),
    "npv": ("tn", "fn"),
}


def _truth(folder, name) -> list[dict]:
    return pq.read_table(folder / "truth" / name).to_pylist()


def _population(folder, start: date) -> set[str]:
    skip = {
        t["BEN_IDT_ANO"]
        for t in _truth(folder, "traps_persons")
        if t["trap"] in ("fictitious_nir", "unknown_nir_ano", "twin")
    }
    return {
        p["BEN_IDT_ANO"]
        for p in _truth(folder, "persons")
        if not p["fictitious"]
        and p["BEN_IDT_ANO"] not in skip
        and (p["death_date"] is None or p["death_date"] >= start)
    }


def _reference(folder, truth) -> set[str]:
    if truth.kind == "conditions":
        found = {
            c["BEN_IDT_ANO"]
            for c in _truth(folder, "conditions")
            if c["condition"] == truth.condition
            and c["onset_date"] <= truth.end
            and (c["end_date"] is None or c["end_date"] >= truth.start)
        }
    else:
        found = {
            s["BEN_IDT_ANO"]
            for s in _truth(folder, "stays")
            if s["condition"] == truth.condition
            and s["kind"] in truth.stay_kinds
            and truth.start <= s["admission_date"] <= truth.end
        }
    if truth.sex:
        sex = {p["BEN_IDT_ANO"]: p["sex"] for p in _truth(folder, "persons")}
        found = {p for p in found if sex[p] == (2 if truth.sex == "female" else 1)}
    return found


def _wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return centre - half, centre + half


@pytest.fixture(scope="module")
def runs(synthetic, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return {
        a.id: (
            a,
            run_algorithm(a, DataFolder(synthetic), out / a.id, threshold=1, unsafe_threshold=True),
        )
        for a in list_algorithms()
        if a.meta.synthetic_truth
    }


@pytest.mark.parametrize(
    "algorithm_id", [a.id for a in list_algorithms() if a.meta.synthetic_truth]
)
def test_validation_metrics_match_an_independent_computation(runs, synthetic, algorithm_id):
    algorithm, run = runs[algorithm_id]
    truth = algorithm.meta.synthetic_truth
    found = set(
        pq.read_table(run.out / "private" / "persons.parquet").column("person_id").to_pylist()
    )
    assert found == set(run.persons)
    population = _population(synthetic, truth.start)
    reference = _reference(synthetic, truth) & population
    found &= population
    expected = {
        "tp": len(found & reference),
        "fp": len(found - reference),
        "fn": len(reference - found),
        "tn": len(population - found - reference),
    }
    report = validate_persons(set(run.persons), synthetic, truth, threshold=1, unsafe=True)
    assert report.cells == expected
    # at threshold 1 only a metric with a cell of exactly one person may be withheld
    for name in report.withheld:
        hit, other = METRICS[name]
        assert 1 in (expected[hit], expected[other]) or expected[hit] + expected[other] == 0
    assert expected["tp"] > 0, "the synthetic modules must plant true cases"
    for metric in report.metrics:
        hit, other = METRICS[metric.name]
        n = expected[hit] + expected[other]
        low, high = _wilson(expected[hit], n)
        assert metric.value == pytest.approx(expected[hit] / n, abs=1e-4)
        assert (metric.ci_low, metric.ci_high) == (
            pytest.approx(low, abs=1e-4),
            pytest.approx(high, abs=1e-4),
        )
    assert {m.name for m in report.metrics} | set(report.withheld) == set(METRICS)
    print(algorithm_id, expected, [(m.name, m.value) for m in report.metrics])


@pytest.mark.parametrize(
    "algorithm_id", ["acs_hospitalised", "stroke_hospitalised", "ihd_hospitalised"]
)
def test_hospital_algorithms_find_the_true_stays(runs, synthetic, algorithm_id):
    """Planted index and event stays are found (SNDS traps handled): Se and PPV ≥ 0.95."""
    algorithm, run = runs[algorithm_id]
    report = validate_persons(
        set(run.persons), synthetic, algorithm.meta.synthetic_truth, 1, unsafe=True
    )
    cells = report.cells
    assert cells["tp"] >= 10
    assert cells["tp"] / (cells["tp"] + cells["fn"]) >= 0.95
    assert cells["tp"] / (cells["tp"] + cells["fp"]) >= 0.95


def test_treated_diabetes_applies_its_rule_on_the_true_dispensings(runs, synthetic):
    """≥ 3 distinct dates within 365 days, or 2 when one is a large pack, first in 2021."""
    algorithm, run = runs["t2d_treated"]
    drugs = set(algorithm.codelists["codelists/t2d_drugs.json"].codes("CIP13"))
    large = set(algorithm.codelists["codelists/t2d_large_packs.json"].codes("CIP13"))
    by_person: dict[str, list[tuple[date, str]]] = {}
    for row in _truth(synthetic, "dispensings"):
        if row["code"] in drugs:
            by_person.setdefault(row["BEN_IDT_ANO"], []).append((row["date"], row["code"]))
    start, end = date(2021, 1, 1), date(2021, 12, 31)
    expected = set()
    for person, rows in by_person.items():
        days = sorted({day for day, _ in rows})
        large_days = sorted({day for day, code in rows if code in large})
        three = any(
            start <= day <= end and days[i + 2] - day <= timedelta(days=365)
            for i, day in enumerate(days[:-2])
        )
        two = any(
            start <= big <= end and any(o != big and abs((o - big).days) <= 365 for o in days)
            for big in large_days
        )
        if three or two:
            expected.add(person)
    population = _population(synthetic, start)
    expected &= population
    found = set(run.persons) & population
    assert len(expected) >= 50
    assert len(expected & found) / len(expected) >= 0.97
    assert len(expected & found) / len(found) >= 0.97


def test_small_cells_are_masked_and_their_metrics_withheld():
    cells = {"tp": 40, "fp": 3, "fn": 25, "tn": 900}
    report = measure(cells, threshold=10)
    assert report.masked["fp"] is True  # 3 persons: 1..10 is never shown
    # The margins (algorithm ±, truth ±) and the total are known: a masked cell alone in its
    # row or column of the 2×2 would be that margin minus the shown cell, so every row and
    # column holding a masked cell holds at least two.
    rows = {"+": ("tp", "fp"), "-": ("fn", "tn")}
    columns = {"+": ("tp", "fn"), "-": ("fp", "tn")}
    for line in [*rows.values(), *columns.values()]:
        assert sum(report.masked[c] for c in line) != 1, line
    names = {m.name for m in report.metrics}
    assert "ppv" not in names and "specificity" not in names
    assert names | set(report.withheld) == set(METRICS)
    shown = report.published_cells()
    assert shown["fp"] == "masked"
    for name in cells:
        assert isinstance(report.masked[name], bool)
        assert shown[name] == ("masked" if report.masked[name] else str(cells[name]))


def test_no_small_cell_no_masking_and_unsafe_threshold_needs_the_flag():
    cells = {"tp": 40, "fp": 30, "fn": 25, "tn": 900}
    report = measure(cells, threshold=10)
    assert not any(report.masked.values()) and len(report.metrics) == 4
    with pytest.raises(SndskitError):
        measure(cells, threshold=5)
    with pytest.raises(SndskitError):
        measure(cells, threshold=0, unsafe=True)
    small = measure({"tp": 40, "fp": 3, "fn": 25, "tn": 900}, threshold=2, unsafe=True)
    assert not any(small.masked.values())  # 3 > 2: shown inside the enclave


def test_evidence_is_labelled_synthetic_and_carries_masked_counts(runs, synthetic):
    algorithm, run = runs["t2d_treated"]
    truth = algorithm.meta.synthetic_truth
    report = validate_persons(set(run.persons), synthetic, truth, threshold=10)
    manifest = json.loads((synthetic / "truth" / "manifest.json").read_text(encoding="utf-8"))
    evidence = as_evidence(report, truth, manifest)
    assert evidence.level == 0 and evidence.synthetic
    assert evidence.method.fr.startswith("DONNÉES SYNTHÉTIQUES")
    assert evidence.method.en.startswith("SYNTHETIC DATA")
    assert f"TP {report.cells['tp']}" in evidence.note.en


def test_counts_of_a_run_are_masked(runs, synthetic, tmp_path):
    algorithm, _ = runs["breast_cancer_active"]
    run = run_algorithm(algorithm, DataFolder(synthetic), tmp_path / "run", threshold=10)
    assert (run.out / "private" / "persons.parquet").is_file()
    assert {p.name for p in (run.out / "export").iterdir()} == {
        "counts.csv",
        "manifest.json",
        "EXPORT.md",
    }
    lines = list(csv.DictReader(io.StringIO((run.out / "export" / "counts.csv").read_text())))
    assert [k for k in lines[0]] == ["year", "cohorts", "persons", "masked", "threshold"]
    assert len(lines) == len(run.counts)
    truth: dict[tuple[str, str], int] = {}  # persons per (year, combination), recounted here
    for entry in run.persons.values():
        key = (str(entry["index_date"].year), "+".join(sorted(entry["cohorts"])))
        truth[key] = truth.get(key, 0) + 1
    for line, row in zip(lines, run.counts, strict=True):
        n = truth[(line["year"], line["cohorts"])]
        assert line["threshold"] == "10"
        if 1 <= n <= 10:
            assert row["masked"] is True and line["persons"] == "masked"
        if row["masked"]:
            assert row["persons"] is None and line["persons"] == "masked"
        else:
            assert line["persons"] == str(n)
    manifest = json.loads((run.out / "export" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["algorithm"] == "breast_cancer_active"
    assert manifest["disclosure"]["audit"]["passed"] is True
