"""The one door through which the web app shows counts of persons.

Every count on a page goes through here. Today it delegates to :mod:`sndskit.privacy`
(small-count masking with secondary suppression); when the disclosure-control package
replaces it, only this module changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sndskit.privacy import PRIMARY, SECONDARY, mask_counts

__all__ = ["PRIMARY", "SECONDARY", "mask_rows", "shown_count"]


def mask_rows(
    rows: Iterable[dict[str, Any]],
    *,
    persons: str,
    counts: Iterable[str] = (),
    margins: Iterable[Iterable[str]] = (),
    threshold: int,
) -> list[dict[str, Any]]:
    """Rows with small cells masked (see :func:`sndskit.privacy.mask_counts`)."""
    return mask_counts(rows, persons=persons, counts=counts, margins=margins, threshold=threshold)


def shown_count(value: int | None, masked: str | None, threshold: int, lang: str) -> str:
    """How a count appears on a page: the number, ``1-10`` (primary) or masked (secondary).

    >>> shown_count(1234, None, 10, "fr"), shown_count(None, "primary", 10, "fr")
    ('1\u202f234', '1-10')
    >>> shown_count(None, "secondary", 10, "en"), shown_count(None, "secondary", 10, "fr")
    ('masked', 'masqué')
    """
    if masked == PRIMARY:
        return f"1-{threshold}"
    if masked == SECONDARY or (masked and value is None):
        return "masqué" if lang == "fr" else "masked"
    if value is None:
        return ""
    if isinstance(value, int) and value > 0 and value <= threshold:
        raise ValueError(f"unmasked small count {value} reached a page")
    return f"{value:,}".replace(",", "\u202f" if lang == "fr" else ",")
