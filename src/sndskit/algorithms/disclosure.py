"""The one door through which the algorithm catalogue publishes counts: every table goes
through :mod:`sndskit.disclosure` (suppression with an audited secondary pattern)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sndskit.disclosure import DEFAULT_THRESHOLD, MASK, AuditResult, check_threshold
from sndskit.disclosure.tables import protect_table

__all__ = ["DEFAULT_THRESHOLD", "mask_table", "protect_rows", "render_count"]


def protect_rows(
    rows: Iterable[dict[str, Any]],
    *,
    persons: str,
    margins: Iterable[Iterable[str]],
    threshold: int = DEFAULT_THRESHOLD,
    unsafe: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The masked rows (see :func:`mask_table`) and the summary of the audit that proves no
    suppressed cell can be recomputed (for the manifest and ``EXPORT.md``)."""
    check_threshold(threshold, unsafe=unsafe)
    rows = list(rows)
    if not rows:
        return [], AuditResult(threshold).summary()
    keys = [c for c in rows[0] if c not in (persons, "masked")]
    masked, protection = protect_table(
        rows,
        keys=keys,
        persons=persons,
        known_margins=[[], *(list(m) for m in margins)],
        threshold=threshold,
        unsafe=unsafe,
    )
    return masked, protection.audit.summary()


def mask_table(
    rows: Iterable[dict[str, Any]],
    *,
    persons: str,
    margins: Iterable[Iterable[str]],
    threshold: int = DEFAULT_THRESHOLD,
    unsafe: bool = False,
) -> list[dict[str, Any]]:
    """Rows with counts of 1..threshold persons suppressed, and enough other cells that no
    published margin (nor the grand total) gives one back; each row gains a boolean
    ``masked``. A threshold below the default needs ``unsafe=True``.

    >>> rows = [{"truth": t, "found": f, "n": n} for t, f, n in
    ...         [(1, 1, 40), (1, 0, 4), (0, 1, 30), (0, 0, 900)]]
    >>> [r["n"] for r in mask_table(rows, persons="n", margins=[["truth"], ["found"]])]
    [None, None, None, None]
    >>> [r["masked"] for r in mask_table(rows, persons="n", margins=[["truth"], ["found"]],
    ...                                  threshold=1, unsafe=True)]
    [False, False, False, False]
    """
    return protect_rows(rows, persons=persons, margins=margins, threshold=threshold, unsafe=unsafe)[
        0
    ]


def render_count(value: int | None, masked: bool | None) -> str:
    """A published cell: the count, or the one suppression label (the threshold is stated
    beside every table).

    >>> render_count(42, False), render_count(None, True)
    ('42', 'masked')
    """
    return MASK if masked else ("" if value is None else str(value))
