"""Cost of disclosure control (suppression + LP audit) for the tables of one cohort run with
its rates, as published for a national-scale cohort.

The tables are those of a ~50,000-person cohort in a 1 M-person population (the 1 M-person
cohort benchmark): attrition (6 steps), counts and rates by year × age band × sex with their
year × sex margins. Cell values are drawn (seeded) so that the youngest bands hold the small
counts a real run has. The audit's cost depends on the number of cells, not of persons. Run:
``.venv/bin/python benchmarks/bench_disclosure.py [--years 3 10]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sndskit.cohorts.outputs import CohortTables, protect_cohort
from sndskit.cohorts.runner import AGE_BANDS

SHARE = [0.22, 0.26, 0.30, 0.11, 0.07, 0.04]  # population by age band
RISK = [0.0002, 0.004, 0.04, 0.09, 0.11, 0.10]  # prevalence by age band


def tables(years: int, population: int, seed: int = 7) -> CohortTables:
    rng = np.random.default_rng(seed)
    bands = [f"{lo}-{hi}" if hi < 200 else f"{lo}+" for lo, hi in AGE_BANDS]
    rates, counts = [], []
    for year in range(2020, 2020 + years):
        for band, share, risk in zip(bands, SHARE, RISK, strict=True):
            for sex in ("male", "female"):
                pop = int(population * share / 2)
                prevalent = int(rng.poisson(pop * risk))
                incident = int(rng.binomial(prevalent, 0.15))
                rates.append(
                    {
                        "year": year,
                        "age_band": band,
                        "sex": sex,
                        "population": pop,
                        "person_years": pop - prevalent * 0.9,
                        "incident": incident,
                        "prevalent": prevalent,
                    }
                )
                counts.append({"year": year, "age_band": band, "sex": sex, "persons": incident})
    final = sum(c["persons"] for c in counts)
    steps = [population, int(final * 1.6), int(final * 1.3), int(final * 1.1), final + 900, final]
    attrition = [{"step": f"step {i}", "persons": n, "records": n} for i, n in enumerate(steps)]
    return CohortTables(attrition, counts, True, rates)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=int, nargs="+", default=[3, 10])
    parser.add_argument("--population", type=int, default=1_000_000)
    args = parser.parse_args()
    for years in args.years:
        data = tables(years, args.population)
        best = []
        for _ in range(3):
            started = time.perf_counter()
            published = protect_cohort(data, 10)
            best.append(time.perf_counter() - started)
        audit = published.protection.audit
        print(
            f"{years} years: {len(data.rates)} strata, {audit.suppressed} cells masked, "
            f"{len(audit.intervals)} intervals, narrowest {audit.summary()['narrowest_interval']}, "
            f"best of 3 {min(best):.2f} s (max {max(best):.2f} s)"
        )


if __name__ == "__main__":
    main()
