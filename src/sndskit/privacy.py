"""Small-count masking for every count that leaves sndskit.

The Health Data Hub does not return counts below 11 (primer §6): a cell of 1–10 persons
is masked (*primary* suppression), and so is the smallest other cell of any margin in which
it is the only masked one, so that a published total cannot give it back (*secondary*
suppression). Zero is not masked. The threshold is a parameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

DEFAULT_THRESHOLD = 10
PRIMARY = "primary"
SECONDARY = "secondary"


def is_small(count: int | None, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """True for 1 ≤ count ≤ threshold.

    >>> [is_small(n) for n in (0, 1, 10, 11)]
    [False, True, True, False]
    """
    return count is not None and 1 <= count <= threshold


def mask_counts(
    rows: Iterable[dict[str, Any]],
    *,
    persons: str,
    counts: Iterable[str] = (),
    margins: Iterable[Iterable[str]] = (),
    threshold: int = DEFAULT_THRESHOLD,
) -> list[dict[str, Any]]:
    """Copies of ``rows`` with small cells masked (values set to None).

    ``persons`` is the column deciding suppression; every column of ``counts`` is masked
    with it. ``margins`` lists the groupings whose totals are published or derivable (e.g.
    ``[["code"], ["year"]]``). Each row gains ``masked``: None, "primary" or "secondary".

    >>> rows = [{"year": y, "n": n} for y, n in [(2019, 5), (2020, 40), (2021, 30)]]
    >>> [(r["n"], r["masked"]) for r in mask_counts(rows, persons="n", margins=[[]])]
    [(None, 'primary'), (40, None), (None, 'secondary')]
    """
    out = [dict(row) for row in rows]
    keys = [persons, *counts]
    for row in out:
        row["masked"] = PRIMARY if is_small(row[persons], threshold) else None
    changed = True
    while changed:
        changed = False
        for margin in margins:
            margin = list(margin)
            groups: dict[tuple, list[dict[str, Any]]] = {}
            for row in out:
                groups.setdefault(tuple(row[k] for k in margin), []).append(row)
            for group in groups.values():
                masked = [r for r in group if r["masked"]]
                if len(masked) != 1 or len(group) < 2:
                    continue
                candidates = [r for r in group if not r["masked"] and (r[persons] or 0) > 0]
                if candidates:
                    smallest = min(candidates, key=lambda r: r[persons])
                    smallest["masked"] = SECONDARY
                    changed = True
    for row in out:
        if row["masked"]:
            for key in keys:
                row[key] = None
    return out


def render_count(value: int | None, masked: str | None, threshold: int = DEFAULT_THRESHOLD) -> str:
    """How a count is printed: the number, ``1-10`` (primary) or ``masked`` (secondary)."""
    if masked == PRIMARY:
        return f"1-{threshold}"
    if masked == SECONDARY:
        return "masked"
    return "" if value is None else str(value)
