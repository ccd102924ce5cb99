"""French-aware text normalisation shared by every search (catalogue, terminologies)."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from unidecode import unidecode

_WORD = re.compile(r"[a-z0-9]+")


def normalise_text(text: str) -> str:
    """Lower-case, accent-free form used for every comparison.

    >>> normalise_text("Numéro FINESS e-PMSI")
    'numero finess e-pmsi'
    """
    return unidecode(text).lower()


@cache
def french_stopwords() -> frozenset[str]:
    path = resources.files("sndskit") / "resources" / "text" / "stopwords_fr.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def words(text: str, *, drop_stopwords: bool = False) -> list[str]:
    """Normalised words of ``text``.

    >>> words("Date de décès du bénéficiaire", drop_stopwords=True)
    ['date', 'deces', 'beneficiaire']
    """
    found = _WORD.findall(normalise_text(text))
    if drop_stopwords:
        stop = french_stopwords()
        found = [w for w in found if w not in stop]
    return found
