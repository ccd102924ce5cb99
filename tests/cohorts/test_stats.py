"""Rates against a hand computation on hand-built data, and the interval formulas."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sndskit.cohorts.figures import plot_attrition, plot_rates
from sndskit.cohorts.runner import resolve_codelists, run_cohort
from sndskit.cohorts.spec import CohortSpec
from sndskit.cohorts.stats import byar_interval, count_rates, summarise_rates, wilson_interval
from sndskit.engines.datasource import DataFolder
from sndskit.specs import parse_spec
from tests.cohorts.builder import SndsBuilder
from tests.cohorts.test_cohorts import SPEC, _codelists, three


def test_rates_match_a_hand_computation(tmp_path, engine):
    b = SndsBuilder()
    for p in range(1, 31):
        b.person(p, birth_year=1960)
        if p <= 15:
            three(b, p)  # index 2019-03-10
    b.stay(999, date(2019, 6, 1), dp="Z000")
    _codelists(tmp_path)
    spec = parse_spec(SPEC.format(preset="cnam", roles="[DP]", lag=6), CohortSpec)
    data = DataFolder(b.write(tmp_path / "data"))
    run_cohort(
        spec,
        data,
        tmp_path / "out",
        codelists=resolve_codelists(spec, tmp_path),
        threshold=1,
        unsafe_threshold=True,
        engine=engine,
    )
    raw = {
        (r["year"], r["age_band"]): r
        for r in count_rates(tmp_path / "out", data, first_year=2019, last_year=2020, engine=engine)
    }
    y2019, y2020 = raw[(2019, "40-64")], raw[(2020, "40-64")]
    at_risk_2019 = (
        15 * (date(2019, 3, 10) - date(2019, 1, 1)).days + 15 + 15 * 365
    )  # index day counts
    assert y2019["person_years"] == pytest.approx(at_risk_2019 / 365.25, abs=0.05)
    assert (y2019["population"], y2019["incident"], y2019["prevalent"]) == (30, 15, 15)
    assert (y2020["incident"], y2020["prevalent"]) == (0, 15)
    assert y2020["person_years"] == pytest.approx(15 * 366 / 365.25, abs=0.05)
    published = {
        (r["year"], r["age_band"]): r
        for r in summarise_rates(
            tmp_path / "out",
            data,
            first_year=2019,
            last_year=2020,
            threshold=2,
            unsafe_threshold=True,
        )
    }[(2019, "40-64")]
    rounded = 2 * round(at_risk_2019 / 365.25 / 2)  # published to the threshold's unit
    assert published["person_years"] == rounded
    assert published["incidence_per_100k"] == pytest.approx(100_000 * 15 / rounded, rel=1e-3)
    assert published["prevalence_per_100k"] == pytest.approx(50_000)
    masked = summarise_rates(tmp_path / "out", data, first_year=2019, last_year=2020)
    assert all(r["incident"] in (None, 0) or r["incident"] > 10 for r in masked)
    attrition = [{"step": "a", "persons": 40}, {"step": "b", "persons": None, "masked": True}]
    assert plot_attrition(attrition, tmp_path / "a.png", "t", 10).stat().st_size > 1000
    assert plot_rates(masked, tmp_path / "r.png", "t", 10).stat().st_size > 1000


def test_byar_interval_is_close_to_the_exact_poisson_interval():
    low, high = byar_interval(10, 1.0)  # exact (Garwood) 95 %: 4.795, 18.390
    assert low == pytest.approx(4.795, abs=0.01) and high == pytest.approx(18.390, abs=0.02)
    assert byar_interval(0, 1.0)[0] == 0.0 and byar_interval(0, 1.0)[1] == pytest.approx(
        3.689, abs=0.02
    )


@given(st.integers(min_value=1, max_value=10_000), st.data())
def test_wilson_interval_bounds(total, data):
    successes = data.draw(st.integers(min_value=0, max_value=total))
    low, high = wilson_interval(successes, total)
    assert 0 <= low <= successes / total <= high <= 1
    assert not math.isnan(low)
