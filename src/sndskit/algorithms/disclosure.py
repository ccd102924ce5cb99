"""The one door through which the algorithm catalogue publishes counts: every table goes
through :mod:`sndskit.disclosure` (suppression with an audited secondary pattern)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sndskit.disclosure import DEFAULT_THRESHOLD, MASK
from sndskit.disclosure.tables import protect_table

__all__ = ["DEFAULT_THRESHOLD", "mask_table", "render_count"]


def mask_table(
    rows: Iterable[dict[str, Any]],
    *,
    persons: str,
    margins: Iterable[Iterable[str]],
    threshold: int = DEFAULT_THRESHOLD,
) -> list[dict[str, Any]]:
    """Rows with counts of 1..threshold persons suppressed, and enough other cells that no
    published margin (nor the grand total) gives one back; each row gains ``masked``.

    >>> rows = [{"truth": t, "found": f, "n": n} for t, f, n in
    ...         [(1, 1, 40), (1, 0, 4), (0, 1, 30), (0, 0, 900)]]
    >>> [r["n"] for r in mask_table(rows, persons="n", margins=[["truth"], ["found"]])]
    [None, None, None, None]
    """
    rows = list(rows)
    if not rows:
        return []
    keys = [c for c in rows[0] if c not in (persons, "masked")]
    masked, _ = protect_table(
        rows,
        keys=keys,
        persons=persons,
        known_margins=[[], *(list(m) for m in margins)],
        threshold=threshold,
    )
    return masked


def render_count(value: int | None, masked: bool | None, threshold: int) -> str:
    """A published cell: the count, or the one suppression label.

    >>> render_count(42, False, 10), render_count(None, True, 10)
    ('42', 'masked')
    """
    del threshold  # one label whatever the threshold (it is stated beside every table)
    return MASK if masked else ("" if value is None else str(value))
