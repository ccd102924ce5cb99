"""Property test of one run's publication (attrition, counts, rates, year × sex margins) on
random tables: what an attacker computes from the published rows alone never gives a masked
count, a small difference or a small sum."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sndskit.cohorts.outputs import CohortTables, protect_cohort

BANDS = ["18-39", "40-64", "65-74"]
counts_st = st.sampled_from([0, 1, 2, 4, 7, 10, 11, 13, 25, 60])


@st.composite
def run_tables(draw):
    rates, counts = [], []
    for year in (2019, 2020):
        for band in BANDS:
            for sex in ("male", "female"):
                incident = draw(counts_st)
                prevalent = incident + draw(counts_st)
                population = prevalent + draw(st.sampled_from([0, 3, 40, 500]))
                rates.append(
                    {
                        "year": year,
                        "age_band": band,
                        "sex": sex,
                        "population": population,
                        "person_years": population - 0.5 * prevalent,
                        "incident": incident,
                        "prevalent": prevalent,
                    }
                )
                counts.append({"year": year, "age_band": band, "sex": sex, "persons": incident})
    final = sum(c["persons"] for c in counts)
    extra = draw(st.sampled_from([0, 2, 9, 30]))
    attrition = [
        {"step": "population", "persons": 5000, "records": 5000},
        {"step": "entry", "persons": final + extra, "records": final + extra},
        {"step": "cohort", "persons": final, "records": final},
    ]
    return CohortTables(attrition, counts, True, rates)


def _int(value):
    return None if value is None else int(value)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run_tables())
def test_nothing_masked_can_be_recomputed_from_the_published_rows(tables):
    published = protect_cohort(tables, 10)
    counts = published.counts
    assert all(r["persons"] is None or not 1 <= r["persons"] <= 10 for r in counts)
    final = _int(published.attrition[-1]["persons"])
    hidden = [r for r in counts if r.get("masked")]
    if final is not None and hidden:
        rest = final - sum(r["persons"] for r in counts if not r.get("masked"))
        assert len(hidden) > 1 and not 1 <= rest <= 10
    steps = [_int(r["persons"]) for r in published.attrition]
    for a, b in itertools.pairwise(steps):
        if a is not None and b is not None:
            assert not 1 <= a - b <= 10
    for rows, group in (
        (published.rates, ("year", "age_band", "sex")),
        (published.margins, ("year", "sex")),
    ):
        for row in rows:
            if row.get("masked"):
                assert row["person_years"] is None and row["population"] is None
                continue
            for key in ("population", "incident", "prevalent"):
                assert not 1 <= row[key] <= 10, (group, row)
            assert not 1 <= row["prevalent"] - row["incident"] <= 10
    # margins minus their visible strata: one masked stratum would be given back
    for margin in published.margins:
        if margin.get("masked"):
            continue
        strata = [
            r for r in published.rates if (r["year"], r["sex"]) == (margin["year"], margin["sex"])
        ]
        masked = [r for r in strata if r.get("masked")]
        for key in ("incident", "prevalent", "population"):
            rest = margin[key] - sum(r[key] for r in strata if not r.get("masked"))
            assert len(masked) != 1
            if masked:
                assert not 1 <= rest <= 10
    # counts equal incident cases here: a visible incident margin is the counts' year × sex total
    for margin in published.margins:
        if margin.get("masked"):
            continue
        group = [r for r in counts if (r["year"], r["sex"]) == (margin["year"], margin["sex"])]
        masked = [r for r in group if r.get("masked")]
        if masked:
            rest = margin["incident"] - sum(r["persons"] for r in group if not r.get("masked"))
            assert len(masked) != 1 and not 1 <= rest <= 10
    assert published.protection.audit.ok
