"""French-aware text normalisation shared by every search (catalogue, terminologies)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
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


EXACT, PREFIX, ONE_TYPO = 1.0, 0.8, 0.6
"""Weights of a query word matching a document word exactly, as a prefix, or with one typo."""


class WordIndex:
    """Inverted index from normalised words to document ids.

    A query word matches a document word exactly, as a prefix (3+ letters), or with one
    edit (5+ letters); :meth:`match` returns each document's best weight.

    >>> index = WordIndex([(0, ["diagnostic", "principal"]), (1, ["date", "deces"])])
    >>> index.match("diagnostc"), index.match("dec"), index.match("date")
    ({0: 0.6}, {1: 0.8}, {1: 1.0})
    """

    def __init__(self, documents: Iterable[tuple[int, Iterable[str]]]) -> None:
        postings: dict[str, set[int]] = {}
        for doc_id, doc_words in documents:
            for word in doc_words:
                postings.setdefault(word, set()).add(doc_id)
        self._postings = postings
        self._sorted = sorted(postings)

    def _prefixed(self, word: str) -> list[str]:
        start = bisect.bisect_left(self._sorted, word)
        end = bisect.bisect_left(self._sorted, word + "\uffff")
        return self._sorted[start:end]

    def match(self, word: str) -> dict[int, float]:
        weights: dict[int, float] = {}

        def add(candidates: Iterable[str], weight: float) -> None:
            for candidate in candidates:
                for doc_id in self._postings[candidate]:
                    if weights.get(doc_id, 0.0) < weight:
                        weights[doc_id] = weight

        if len(word) >= 5:
            close = process.extract(
                word, self._sorted, scorer=Levenshtein.distance, score_cutoff=1, limit=None
            )
            add((c[0] for c in close), ONE_TYPO)
        if len(word) >= 3:
            add(self._prefixed(word), PREFIX)
        if word in self._postings:
            add([word], EXACT)
        return weights
