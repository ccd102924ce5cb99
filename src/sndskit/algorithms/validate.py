"""Validate an algorithm against the planted truth of synthetic data (level-0 evidence).

The reference standard is the truth of `sndskit synth generate` named by the algorithm's
``synthetic_truth``; the population is every synthetic person SNDS can resolve (fictitious
NIR, pseudonyms unknown to IR_BEN_R and twins sharing a pseudonym are left out on both
sides, as in the cohort truth tests). Sensitivity, specificity, PPV and NPV come with
95 % Wilson intervals, as in the ReDSiam validation grid; the 2×2 counts are masked and a
metric whose cells are masked is withheld.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from scipy.stats import binomtest

from sndskit.algorithms.disclosure import DEFAULT_THRESHOLD, mask_table, render_count
from sndskit.algorithms.model import Metric, SyntheticTruth, Text, Validation
from sndskit.errors import SndskitError

UNRESOLVABLE_TRAPS = ("fictitious_nir", "unknown_nir_ano", "twin")
CELLS = {("+", "+"): "tp", ("-", "+"): "fp", ("+", "-"): "fn", ("-", "-"): "tn"}
METRICS = {  # name → (numerator cell, other cell of its denominator)
    "sensitivity": ("tp", "fn"),
    "specificity": ("tn", "fp"),
    "ppv": ("tp", "fp"),
    "npv": ("tn", "fn"),
}


def _truth_table(folder: Path, name: str, columns: list[str]) -> list[dict[str, Any]]:
    path = folder / "truth" / name
    if not path.is_dir():
        raise SndskitError(
            f"no truth/{name} in the data folder: validate needs data from `sndskit synth "
            "generate` (truth written beside the data)",
            file=folder,
        )
    return ds.dataset(path, format="parquet").to_table(columns=columns).to_pylist()


def unresolvable_persons(folder: Path) -> set[str]:
    table = ds.dataset(folder / "truth" / "traps_persons", format="parquet").to_table(
        columns=["BEN_IDT_ANO", "trap"]
    )
    mask = pc.is_in(table["trap"], value_set=pa.array(UNRESOLVABLE_TRAPS))
    return set(table.filter(mask)["BEN_IDT_ANO"].to_pylist())


def study_population(folder: Path, start: date) -> set[str]:
    """Resolvable synthetic persons alive on ``start``."""
    rows = _truth_table(folder, "persons", ["BEN_IDT_ANO", "death_date", "fictitious"])
    skip = unresolvable_persons(folder)
    return {
        r["BEN_IDT_ANO"]
        for r in rows
        if not r["fictitious"]
        and r["BEN_IDT_ANO"] not in skip
        and (r["death_date"] is None or r["death_date"] >= start)
    }


def reference_persons(folder: Path, truth: SyntheticTruth) -> set[str]:
    """Persons the planted truth says have the condition (see :class:`SyntheticTruth`)."""
    if truth.kind == "conditions":
        rows = _truth_table(
            folder, "conditions", ["BEN_IDT_ANO", "condition", "onset_date", "end_date"]
        )
        found = {
            r["BEN_IDT_ANO"]
            for r in rows
            if r["condition"] == truth.condition
            and r["onset_date"] <= truth.end
            and (r["end_date"] is None or r["end_date"] >= truth.start)
        }
    else:
        rows = _truth_table(folder, "stays", ["BEN_IDT_ANO", "condition", "kind", "admission_date"])
        found = {
            r["BEN_IDT_ANO"]
            for r in rows
            if r["condition"] == truth.condition
            and r["kind"] in truth.stay_kinds
            and truth.start <= r["admission_date"] <= truth.end
        }
    if truth.sex:
        code = 1 if truth.sex == "male" else 2
        rows = _truth_table(folder, "persons", ["BEN_IDT_ANO", "sex"])
        sexes = {r["BEN_IDT_ANO"]: r["sex"] for r in rows}
        found = {p for p in found if sexes.get(p) == code}
    return found


def wilson(successes: int, total: int) -> tuple[float, float, float]:
    """Proportion and its 95 % Wilson score interval.

    >>> [round(x, 4) for x in wilson(45, 50)]
    [0.9, 0.7864, 0.9565]
    """
    interval = binomtest(successes, total).proportion_ci(confidence_level=0.95, method="wilson")
    return successes / total, float(interval.low), float(interval.high)


@dataclass
class ValidationReport:
    cells: dict[str, int]  # unmasked tp, fp, fn, tn (kept inside the tool)
    masked: dict[str, bool]  # cell → suppressed (small, or protecting a small one)
    metrics: list[Metric]  # only metrics none of whose cells is masked
    withheld: list[str]
    threshold: int

    def published_cells(self) -> dict[str, str]:
        return {c: render_count(self.cells[c], self.masked[c]) for c in self.cells}


def confusion(found: set[str], reference: set[str], population: set[str]) -> dict[str, int]:
    found, reference = found & population, reference & population
    return {
        "tp": len(found & reference),
        "fp": len(found - reference),
        "fn": len(reference - found),
        "tn": len(population - found - reference),
    }


def measure(
    cells: dict[str, int], threshold: int = DEFAULT_THRESHOLD, *, unsafe: bool = False
) -> ValidationReport:
    """Metrics with Wilson intervals from a 2×2 table, after small-count masking (a threshold
    below the default needs ``unsafe=True``)."""
    rows = [{"algorithm": a, "truth": t, "persons": cells[name]} for (a, t), name in CELLS.items()]
    masked_rows = mask_table(
        rows,
        persons="persons",
        margins=[["algorithm"], ["truth"]],
        threshold=threshold,
        unsafe=unsafe,
    )
    masked = {CELLS[(r["algorithm"], r["truth"])]: r["masked"] for r in masked_rows}
    metrics, withheld = [], []
    for name, (hit, other) in METRICS.items():
        total = cells[hit] + cells[other]
        if masked[hit] or masked[other] or total == 0:
            withheld.append(name)
            continue
        value, low, high = wilson(cells[hit], total)
        metrics.append(
            Metric(
                name=name,
                value=round(value, 4),
                ci_low=round(low, 4),
                ci_high=round(high, 4),
                ci_method="wilson",
            )
        )
    return ValidationReport(dict(cells), masked, metrics, withheld, threshold)


def validate_persons(
    found: set[str],
    folder: Path,
    truth: SyntheticTruth,
    threshold: int = DEFAULT_THRESHOLD,
    *,
    unsafe: bool = False,
) -> ValidationReport:
    """Compare the persons an algorithm found on synthetic ``folder`` with the truth."""
    population = study_population(folder, truth.start)
    cells = confusion(found, reference_persons(folder, truth), population)
    return measure(cells, threshold, unsafe=unsafe)


def as_evidence(report: ValidationReport, truth: SyntheticTruth, manifest: dict) -> Validation:
    """The report as level-0 validation evidence, labelled synthetic, counts masked."""
    params = manifest.get("parameters", manifest)
    described = (
        f"{params.get('patients', '?')} persons, {params.get('start_year', '?')}-"
        f"{params.get('end_year', '?')}, seed {params.get('seed', '?')}"
    )
    cells = report.published_cells()
    withheld = ", ".join(report.withheld)
    table = ", ".join(f"{k.upper()} {v}" for k, v in cells.items())
    what = (
        f"condition « {truth.condition} » présente entre le {truth.start} et le {truth.end}"
        if truth.kind == "conditions"
        else f"séjour vrai « {truth.condition} » ({', '.join(truth.stay_kinds)}) admis entre "
        f"le {truth.start} et le {truth.end}"
    )
    what_en = (
        f"condition '{truth.condition}' present between {truth.start} and {truth.end}"
        if truth.kind == "conditions"
        else f"true '{truth.condition}' stay ({', '.join(truth.stay_kinds)}) admitted between "
        f"{truth.start} and {truth.end}"
    )
    return Validation(
        level=0,
        synthetic=True,
        method=Text(
            fr=f"DONNÉES SYNTHÉTIQUES (sndskit synth, {described}) : algorithme exécuté sur les "
            "tables simulées, comparé à la vérité plantée ; IC 95 % de Wilson.",
            en=f"SYNTHETIC DATA (sndskit synth, {described}): algorithm run on the simulated "
            "tables, compared with the planted truth; 95% Wilson intervals.",
        ),
        reference_standard=Text(
            fr=f"Vérité synthétique : {what}", en=f"Synthetic truth: {what_en}"
        ),
        population=Text(
            fr="Personnes synthétiques résolubles vivantes au début de la période",
            en="Resolvable synthetic persons alive at the start of the period",
        ),
        metrics=report.metrics,
        note=Text(
            fr=f"Ne dit rien de la validité sur données réelles. Tableau 2×2 (masqué) : {table}."
            + (f" Non publiés (cellules masquées) : {withheld}." if withheld else ""),
            en=f"Says nothing about validity on real data. 2×2 table (masked): {table}."
            + (f" Withheld (masked cells): {withheld}." if withheld else ""),
        ),
    )
