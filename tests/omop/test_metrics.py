"""Property tests of the quality statistics, and values known from the literature."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from sndskit.omop import Equivalence, Mapping, MappingStatus, assess_quality
from sndskit.omop.metrics import cohen_kappa, drift, stratified_precision, wilson_interval


def _wilson_by_quadratic(x: float, n: float, z: float = 1.959963984540054):
    """Independent form: the p solving (p̂ - p)² = z² p (1 - p) / n."""
    p_hat = x / n
    a = 1 + z * z / n
    b = -(2 * p_hat + z * z / n)
    c = p_hat * p_hat
    root = math.sqrt(b * b - 4 * a * c)
    return ((-b - root) / (2 * a), (-b + root) / (2 * a))


def test_wilson_matches_the_quadratic_solution():
    for x, n in [(8, 10), (0, 20), (20, 20), (81, 263), (1, 3)]:
        low, high = wilson_interval(x, n)
        ref_low, ref_high = _wilson_by_quadratic(x, n)
        assert math.isclose(low, ref_low, abs_tol=1e-12) and math.isclose(
            high, ref_high, rel_tol=1e-12
        )


@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_wilson_bounds(x, n):
    x = min(x, n)
    low, high = wilson_interval(x, n)
    assert 0.0 <= low <= x / n <= high <= 1.0


@given(st.integers(1, 500), st.integers(2, 40))
def test_wilson_narrows_with_more_data(n, factor):
    x = n // 2
    low, high = wilson_interval(x, n)
    low2, high2 = wilson_interval(x * factor, n * factor)
    assert high2 - low2 <= high - low + 1e-12


def test_kappa_of_the_textbook_example():
    # 50 items: both yes 20, first yes/second no 5, first no/second yes 10, both no 15:
    # p_o = 0.7, p_e = 0.5, κ = 0.4 (Cohen's kappa, Wikipedia worked example).
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    result = cohen_kappa(first, second)
    assert math.isclose(result["kappa"], 0.4) and math.isclose(result["observed_agreement"], 0.7)


ratings = st.lists(
    st.tuples(st.sampled_from("CIU"), st.sampled_from("CIU")), min_size=1, max_size=200
)


@given(ratings)
def test_kappa_bounds(pairs):
    kappa = cohen_kappa([a for a, _ in pairs], [b for _, b in pairs])["kappa"]
    assert -1.0 <= kappa <= 1.0


@given(st.lists(st.sampled_from("CIU"), min_size=1, max_size=200))
def test_kappa_is_one_for_identical_ratings(values):
    assert cohen_kappa(values, values)["kappa"] == 1.0


strata = st.lists(
    st.tuples(st.integers(1, 10_000), st.integers(0, 300), st.integers(0, 300)),
    min_size=1,
    max_size=6,
)


@given(strata)
def test_stratified_precision_bounds(raw):
    cells = [(max(big_n, n), n, min(x, n)) for big_n, n, x in raw]
    result = stratified_precision(cells)
    if result["estimate"] is None:
        assert all(n == 0 for _, n, _ in cells)
    else:
        assert 0.0 <= result["low"] <= result["estimate"] <= result["high"] <= 1.0


def test_stratified_precision_weights_by_stratum_size():
    # Stratum A: 900 mappings, 9/10 correct; stratum B: 100 mappings, 5/10 correct.
    result = stratified_precision([(900, 10, 9), (100, 10, 5)])
    assert math.isclose(result["estimate"], 0.9 * 0.9 + 0.1 * 0.5)


mappings = st.lists(
    st.builds(
        Mapping,
        source_vocabulary=st.sampled_from(["CIM10", "CCAM"]),
        source_code=st.sampled_from([f"C{i}" for i in range(12)]),
        target_concept_id=st.sampled_from([0, 11, 12, 13, 14]),
        status=st.sampled_from(list(MappingStatus)),
        equivalence=st.sampled_from(list(Equivalence)),
        source_frequency=st.none() | st.integers(0, 1000),
    ),
    max_size=30,
    unique_by=lambda m: m.key,
)


@settings(max_examples=60, deadline=None)
@given(
    mappings,
    st.dictionaries(
        st.tuples(
            st.sampled_from(["CIM10", "CCAM"]), st.sampled_from([f"C{i}" for i in range(15)])
        ),
        st.integers(0, 10_000),
        max_size=10,
    ),
)
def test_every_share_is_a_proportion(items, usage):
    report = assess_quality(items, usage=usage, sample_size=10)
    for row in report["coverage"]:
        for key, value in row.items():
            if key.startswith("share_") and value is not None:
                assert 0.0 <= value <= 1.0
        assert row["codes_approved"] <= row["codes_mapped"] <= row["codes"]
    share = report["cardinality"]["share_one_to_many"]
    assert share is None or 0.0 <= share <= 1.0


@settings(max_examples=60, deadline=None)
@given(mappings, mappings)
def test_drift_invariants(a, b):
    assert drift(a, a)["added"] == drift(a, a)["removed"] == drift(a, a)["retargeted"] == 0
    assert drift(a, a)["status_changes"] == {}
    forward, backward = drift(a, b), drift(b, a)
    assert forward["added"] == backward["removed"] and forward["removed"] == backward["added"]
    assert forward["retargeted"] == backward["retargeted"]
    assert forward["codes_new"] == backward["codes_dropped"]
    assert sum(forward["status_changes"].values()) == sum(backward["status_changes"].values())
    reversed_transitions = {
        "→".join(k.split("→")[::-1]): v for k, v in backward["status_changes"].items()
    }
    assert forward["status_changes"] == reversed_transitions
