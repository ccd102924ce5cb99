"""The one door through which the algorithm catalogue publishes counts.

Today it calls :func:`sndskit.privacy.mask_counts`; when the ``disclosure`` package
replaces ``privacy``, only the import below changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sndskit.privacy import DEFAULT_THRESHOLD, mask_counts, render_count

__all__ = ["DEFAULT_THRESHOLD", "mask_table", "render_count"]


def mask_table(
    rows: Iterable[dict[str, Any]],
    *,
    persons: str,
    margins: Iterable[Iterable[str]],
    threshold: int = DEFAULT_THRESHOLD,
) -> list[dict[str, Any]]:
    """Rows with counts of 1..threshold persons masked, and the secondary cells of every
    published margin (each row gains ``masked``: None, "primary" or "secondary").

    >>> rows = [{"truth": t, "found": f, "n": n} for t, f, n in
    ...         [(1, 1, 40), (1, 0, 4), (0, 1, 30), (0, 0, 900)]]
    >>> [r["n"] for r in mask_table(rows, persons="n", margins=[["truth"], ["found"]])]
    [None, None, None, None]
    """
    return mask_counts(rows, persons=persons, margins=margins, threshold=threshold)
