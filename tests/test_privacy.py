"""Small-count masking: properties that must hold for any table."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sndskit.privacy import mask_counts, render_count

cells = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),
        st.sampled_from([2019, 2020, 2021]),
        st.integers(min_value=0, max_value=60),
    ),
    min_size=1,
    max_size=9,
    unique_by=lambda t: (t[0], t[1]),
)


@given(cells, st.integers(min_value=1, max_value=15))
def test_masking_properties(raw, threshold):
    rows = [{"code": c, "year": y, "persons": n, "records": 2 * n} for c, y, n in raw]
    masked = mask_counts(
        rows,
        persons="persons",
        counts=["records"],
        margins=[["code"], ["year"]],
        threshold=threshold,
    )
    for before, after in zip(rows, masked, strict=True):
        small = 1 <= before["persons"] <= threshold
        assert (after["masked"] == "primary") == small  # every small cell, and only those
        if before["persons"] == 0:
            assert after["persons"] == 0  # zero is not masked
        if after["masked"]:
            assert after["persons"] is None and after["records"] is None
        else:
            assert after["persons"] == before["persons"]
    for margin in ("code", "year"):
        groups = {}
        for row in masked:
            groups.setdefault(row[margin], []).append(row)
        for group in groups.values():
            hidden = [r for r in group if r["masked"]]
            visible_nonzero = [r for r in group if not r["masked"] and r["persons"]]
            # A lone masked cell could be recomputed from the margin total, unless nothing
            # else in the margin can be masked (the rest is zero).
            assert len(hidden) != 1 or len(group) == 1 or not visible_nonzero


def test_rendering():
    assert render_count(None, "primary") == "1-10"
    assert render_count(None, "secondary") == "masked"
    assert render_count(0, None) == "0"
