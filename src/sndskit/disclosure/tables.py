"""Protect a single published table: cells, the margins it exposes, one audited pattern."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sndskit.disclosure.problem import Problem
from sndskit.disclosure.suppress import Protection, protect


def protect_table(
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    persons: str,
    hide: Sequence[str] = (),
    known_margins: Sequence[Sequence[str]] = (),
    threshold: int,
    unsafe: bool = False,
) -> tuple[list[dict[str, Any]], Protection]:
    """Copies of ``rows`` with the suppressed ones' ``persons`` and ``hide`` columns set to
    None and ``masked`` True. ``known_margins`` are totals assumed known to an attacker
    (published here or elsewhere, e.g. a code's count over all years).

    >>> rows = [{"year": y, "n": n} for y, n in [(2019, 5), (2020, 40), (2021, 30)]]
    >>> out, _ = protect_table(rows, keys=["year"], persons="n", known_margins=[[]],
    ...                        threshold=10)
    >>> [r["n"] for r in out]
    [None, 40, None]
    """
    problem = Problem()
    cells = problem.add_table(
        "table", list(rows), keys=keys, value=persons, published=known_margins, link=keys
    )
    protection = protect(problem, threshold, unsafe=unsafe)
    out = []
    for row, key in zip(rows, cells, strict=True):
        if key in protection.suppressed:
            out.append({**row, **dict.fromkeys([persons, *hide], None), "masked": True})
        else:
            out.append({**row, "masked": False})
    return out, protection
