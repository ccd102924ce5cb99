"""The one door through which the web app shows counts of persons.

Counts reach pages already protected by :mod:`sndskit.disclosure` (the library functions
the pages call publish through it); here a suppressed cell gets its one label.
"""

from __future__ import annotations

from sndskit.disclosure import is_small

__all__ = ["shown_count"]


def shown_count(value: int | None, masked: bool | None, threshold: int, lang: str) -> str:
    """How a count appears on a page: the number, or the one suppression label.

    >>> shown_count(1234, False, 10, "fr"), shown_count(None, True, 10, "fr")
    ('1\u202f234', 'masqué')
    >>> shown_count(None, True, 10, "en")
    'masked'
    """
    if masked:
        return "masqué" if lang == "fr" else "masked"
    if value is None:
        return ""
    if isinstance(value, int) and is_small(value, threshold):
        raise ValueError(f"unmasked small count {value} reached a page")
    return f"{value:,}".replace(",", "\u202f" if lang == "fr" else ",")
