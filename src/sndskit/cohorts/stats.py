"""Incidence and prevalence of a cohort by year, age band and sex, with 95 % intervals.

Denominators come from the beneficiary table of the same data, through the same identity
query as the cohort (:mod:`sndskit.snds.identity`; fictitious NIR dropped as the cohort's
manifest says): every person alive from 1 January of the birth year (``BEN_NAI_ANN``) to
death (``BEN_DCD_DTE``).

- **Incidence rate** (per 100,000 person-years): persons whose first index falls in the
  year ÷ person-years at risk, counting each person until the first index (time after it
  is not at risk); exact-method approximation of Byar for the Poisson interval.
- **Prevalence** (per 100,000 persons): persons followed in the cohort at some point of the
  year (index ≤ 31 Dec, exit ≥ 1 Jan) ÷ persons alive at some point of the year; Wilson
  interval.

Cells of 1–10 cases are masked with their rates (and the smallest other cell of a year or
year × sex margin).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sqlglot import exp

from sndskit.cohorts.runner import AGE_BANDS
from sndskit.engines import open_engine
from sndskit.engines.contract import PlanStep
from sndskit.engines.datasource import DataFolder
from sndskit.privacy import DEFAULT_THRESHOLD, mask_counts
from sndskit.snds import identity
from sndskit.snds.schema import DataSchema

Z95 = 1.959963984540054
PER = 100_000


def byar_interval(cases: int, person_years: float) -> tuple[float, float]:
    """95 % interval of a Poisson rate (Byar's approximation to the exact interval)."""
    if person_years <= 0:
        return math.nan, math.nan
    if cases == 0:  # exact: the upper bound solves exp(-u) = 0.025
        return 0.0, -math.log(0.025) / person_years
    lower = cases * (1 - 1 / (9 * cases) - Z95 / (3 * math.sqrt(cases))) ** 3
    upper = (cases + 1) * (1 - 1 / (9 * (cases + 1)) + Z95 / (3 * math.sqrt(cases + 1))) ** 3
    return lower / person_years, upper / person_years


def wilson_interval(successes: int, total: int) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion."""
    if total == 0:
        return math.nan, math.nan
    p = successes / total
    denominator = 1 + Z95**2 / total
    centre = (p + Z95**2 / (2 * total)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / total + Z95**2 / (4 * total**2)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == total else min(1.0, centre + half)
    return low, high


def _band_case(age: exp.Expression) -> exp.Expression:
    ifs = []
    for low, high in AGE_BANDS:
        label = f"{low}-{high}" if high < 200 else f"{low}+"
        ifs.append(
            exp.If(
                this=age.copy().between(exp.Literal.number(low), exp.Literal.number(high)),
                true=exp.Literal.string(label),
            )
        )
    return exp.Case(ifs=ifs, default=exp.Literal.string("unknown"))


# persons come from the identity steps (sndskit.snds.identity), the cohort from its
# Parquet file, the years from a VALUES list: the same query runs on DuckDB and Spark
_SQL = """
WITH first_index AS (
  SELECT person_id, min(index_date) AS first_index FROM cohort GROUP BY person_id
),
exposure AS (
  SELECT y.year, p.person_id, p.sex, y.year - p.birth_year AS age,
         greatest(make_date(y.year, 1, 1), make_date(p.birth_year, 1, 1)) AS start_day,
         least(make_date(y.year, 12, 31),
               coalesce(p.death_date, make_date(y.year, 12, 31))) AS end_day,
         f.first_index
  FROM years AS y CROSS JOIN persons AS p LEFT JOIN first_index AS f ON f.person_id = p.person_id
  WHERE p.birth_year <= y.year
),
alive AS (SELECT * FROM exposure WHERE end_day >= start_day),
prevalent AS (
  SELECT DISTINCT a.year, a.person_id FROM alive AS a JOIN cohort AS c ON c.person_id = a.person_id
  WHERE c.index_date <= make_date(a.year, 12, 31) AND c.exit_date >= make_date(a.year, 1, 1)
)
SELECT a.year, band(a.age) AS age_band, a.sex,
       count(*) AS population,
       sum(CASE WHEN a.first_index IS NULL OR a.first_index >= a.start_day
                THEN date_diff('day', a.start_day,
                               least(a.end_day, coalesce(a.first_index, a.end_day))) + 1
                ELSE 0 END) / 365.25 AS person_years,
       count(CASE WHEN year(a.first_index) = a.year THEN 1 END) AS incident,
       count(pr.person_id) AS prevalent
FROM alive AS a LEFT JOIN prevalent AS pr ON pr.year = a.year AND pr.person_id = a.person_id
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""


def _rates_plan(schema: DataSchema, first_year: int, last_year: int, exclude_fictitious: bool):
    """Identity steps, the calendar years, and the query of the strata."""
    import sqlglot

    steps = [
        identity.pseudonyms(schema, exclude_fictitious=exclude_fictitious),
        identity.persons(),
        PlanStep(
            "years",
            "calendar years of the rates",
            exp.select("year").from_(
                exp.values(
                    [(y,) for y in range(first_year, last_year + 1)], alias="y", columns=["year"]
                )
            ),
        ),
    ]
    query = sqlglot.parse_one(_SQL, dialect="duckdb").transform(
        lambda n: (
            _band_case(n.expressions[0]) if isinstance(n, exp.Anonymous) and n.name == "band" else n
        ),
        copy=False,
    )
    return steps, query


def _exclude_fictitious(cohort_dir: Path) -> bool:
    """The cohort's own choice (manifest), so rates count the persons the cohort counts."""
    manifest = cohort_dir / "manifest.json"
    if not manifest.exists():
        return True
    spec = json.loads(manifest.read_text(encoding="utf-8")).get("spec", {})
    return bool(spec.get("snds", {}).get("exclude_fictitious_nir", True))


def summarise_rates(
    cohort_dir: Path,
    data: DataFolder,
    *,
    first_year: int,
    last_year: int,
    threshold: int = DEFAULT_THRESHOLD,
    engine: str = "duckdb",
) -> list[dict[str, Any]]:
    """Rows per year × age band × sex: population, person-years, cases, rates, intervals."""
    runner = open_engine(engine, data)
    try:
        steps, query = _rates_plan(
            DataSchema(runner.schema()), first_year, last_year, _exclude_fictitious(cohort_dir)
        )
        runner.register_parquet("cohort", cohort_dir / "cohort.parquet")
        runner.run(steps)
        rows = runner.fetch(query)
    finally:
        runner.close()
    out = []
    for year, band, sex, population, person_years, incident, prevalent in rows:
        person_years = float(person_years)  # Spark returns a decimal
        low, high = byar_interval(incident, person_years)
        p_low, p_high = wilson_interval(prevalent, population)
        out.append(
            {
                "year": year,
                "age_band": band,
                "sex": {"1": "male", "2": "female"}.get(sex, "unknown"),
                "population": population,
                "person_years": round(person_years, 1),
                "incident": incident,
                "incidence_per_100k": round(PER * incident / person_years, 2)
                if person_years
                else None,
                "incidence_low": round(PER * low, 2),
                "incidence_high": round(PER * high, 2),
                "prevalent": prevalent,
                "prevalence_per_100k": round(PER * prevalent / population, 2)
                if population
                else None,
                "prevalence_low": round(PER * p_low, 2),
                "prevalence_high": round(PER * p_high, 2),
            }
        )
    masked = mask_counts(
        out,
        persons="incident",
        counts=["incidence_per_100k", "incidence_low", "incidence_high"],
        margins=[["year"], ["year", "sex"]],
        threshold=threshold,
    )
    prevalence = mask_counts(
        out,
        persons="prevalent",
        counts=["prevalence_per_100k", "prevalence_low", "prevalence_high"],
        margins=[["year"], ["year", "sex"]],
        threshold=threshold,
    )
    for row, other in zip(masked, prevalence, strict=True):
        row["incidence_masked"] = row.pop("masked")
        for key in ("prevalent", "prevalence_per_100k", "prevalence_low", "prevalence_high"):
            row[key] = other[key]
        row["prevalence_masked"] = other["masked"]
        if 1 <= row["population"] <= threshold:
            row["population"] = None  # a tiny stratum is itself a small count
    return masked
