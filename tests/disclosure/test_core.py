"""The suppression pattern and its audit on any table: properties checked by an attacker
written independently of the audit (peeling equations one unknown at a time), and intervals
computed by hand."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sndskit.disclosure import (
    DEFAULT_THRESHOLD,
    DisclosureError,
    Problem,
    audit_pattern,
    check_threshold,
    is_small,
    protect,
)
from sndskit.disclosure.tables import protect_table
from sndskit.errors import SndskitError


def _grid(values, published_rows, published_cols, published_total):
    """A table of ``values`` with its row, column and grand totals; the totals an attacker
    sees are the published ones. Returns the problem, cell keys and equations (independent
    plain lists for the attacker)."""
    p = Problem()
    n_rows, n_cols = len(values), len(values[0])
    cell = {(i, j): p.add(("c", i, j), values[i][j]) for i in range(n_rows) for j in range(n_cols)}
    equations = []
    for i in range(n_rows):
        key = p.add(("r", i), sum(values[i]), published=published_rows, cost=10)
        p.add_sum(key, [cell[i, j] for j in range(n_cols)])
        equations.append((key, [cell[i, j] for j in range(n_cols)]))
    for j in range(n_cols):
        key = p.add(("k", j), sum(v[j] for v in values), published=published_cols, cost=10)
        p.add_sum(key, [cell[i, j] for i in range(n_rows)])
        equations.append((key, [cell[i, j] for i in range(n_rows)]))
    total = p.add(("t",), sum(map(sum, values)), published=published_total, cost=20)
    p.add_sum(total, list(cell.values()))
    equations.append((total, list(cell.values())))
    return p, equations


def _peel(problem, equations, hidden):
    """The attacker's arithmetic: any equation with one unknown left gives it exactly."""
    known = {k: c.value for k, c in problem.cells.items() if c.published and k not in hidden}
    changed = True
    while changed:
        changed = False
        for total, parts in equations:
            unknown = [k for k in [total, *parts] if k not in known]
            if len(unknown) == 1:
                (k,) = unknown
                if k == total:
                    known[k] = sum(known[p] for p in parts)
                else:
                    known[k] = known[total] - sum(known[p] for p in parts if p != k)
                changed = True
    return known


tables = st.integers(2, 4).flatmap(
    lambda rows: st.integers(2, 4).flatmap(
        lambda cols: st.lists(
            st.lists(
                st.sampled_from([0, 1, 2, 3, 5, 8, 10, 11, 14, 25, 60, 200]),
                min_size=cols,
                max_size=cols,
            ),
            min_size=rows,
            max_size=rows,
        )
    )
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables, st.booleans(), st.booleans(), st.booleans(), st.sampled_from([3, 10]))
def test_no_suppressed_cell_can_be_recomputed(values, rows, cols, total, threshold):
    problem, equations = _grid(values, rows, cols, total)
    try:
        protection = protect(problem, threshold, unsafe=True)
    except DisclosureError:
        # only acceptable when even suppressing every inner cell cannot protect: the
        # published totals themselves are small (e.g. a row total of 1–threshold).
        small_totals = [
            c
            for c in problem.cells.values()
            if c.published and c.key[0] != "c" and is_small(c.value, threshold)
        ]
        assert small_totals
        return
    hidden = protection.suppressed
    for key, cell in problem.cells.items():
        if cell.published and is_small(cell.value, threshold):
            assert key in hidden  # every small published count
    known = _peel(problem, equations, hidden)
    for key in hidden:
        if problem.cells[key].value >= 1:
            assert key not in known, f"{key} recomputed by peeling"
    for total_key, parts in equations:
        masked = [p for p in parts if p in hidden]
        if total_key in known and masked:
            assert not is_small(sum(problem.cells[p].value for p in masked), threshold)
    assert protection.audit.ok
    assert all(i.width >= threshold for i in protection.audit.intervals)


def test_audit_interval_of_a_fully_masked_two_by_two_table():
    # [[3, 20], [15, 8]] with all margins published: x11 = a, x12 = 23 − a, x21 = 18 − a,
    # x22 = 5 + a, every cell ≥ 0  ⇒  a ∈ [0, 18]; x22 ∈ [5, 23].
    problem, _ = _grid([[3, 20], [15, 8]], True, True, True)
    hidden = {("c", 0, 0), ("c", 0, 1), ("c", 1, 0), ("c", 1, 1)}
    audit = audit_pattern(problem, hidden, 10)
    intervals = {i.keys[0]: (i.low, i.high) for i in audit.intervals if len(i.keys) == 1}
    assert intervals[("c", 0, 0)] == pytest.approx((0, 18))
    assert intervals[("c", 1, 1)] == pytest.approx((5, 23))
    assert audit.ok


def test_audit_refuses_a_lone_masked_cell():
    problem, _ = _grid([[3, 40], [30, 50]], True, True, True)
    audit = audit_pattern(problem, {("c", 0, 0)}, 10)
    assert not audit.ok and audit.failures[0].low == audit.failures[0].high == 3


def test_table_helper_masks_the_year_a_known_total_would_give_back():
    rows = [{"code": "A", "year": y, "persons": n} for y, n in [(2019, 40), (2020, 3), (2021, 25)]]
    out, protection = protect_table(
        rows, keys=["code", "year"], persons="persons", known_margins=[["code"]], threshold=10
    )
    assert [r["masked"] for r in out] == [False, True, True]  # 25 is the cheapest partner
    assert protection.audit.ok


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_zero_negative_and_non_integer_thresholds_are_refused(bad):
    with pytest.raises(SndskitError, match="positive whole number"):
        check_threshold(bad)


def test_a_threshold_below_the_rule_needs_unsafe():
    with pytest.raises(SndskitError, match="unsafe-threshold"):
        check_threshold(5)
    assert check_threshold(5, unsafe=True) == 5
    assert check_threshold(DEFAULT_THRESHOLD + 5) == 15


def test_small_is_one_to_threshold():
    assert [n for n in range(0, 13) if is_small(n, 10)] == list(range(1, 11))
    assert list(itertools.filterfalse(lambda n: is_small(n, 3), [0, 1, 3, 4])) == [0, 4]
