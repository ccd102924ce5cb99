"""French-aware text normalisation shared by every search (catalogue, terminologies)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources

import snowballstemmer
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


_STEMMER = snowballstemmer.stemmer("french")


@cache
def stem(word: str) -> str:
    """French Snowball stem of a normalised word (inflections share it).

    >>> stem("diabete"), stem("diabetique"), stem("diabetiques")
    ('diabet', 'diabet', 'diabet')
    """
    return _STEMMER.stemWord(word)


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


EXACT, SAME_STEM, PREFIX, ONE_TYPO = 1.0, 0.9, 0.8, 0.6
"""Weights of a query word matching a known word: exactly, by French stem (4+ letters),
as a prefix (3+ letters), or with one edit (5+ letters)."""


class Lexicon:
    """The known words of a corpus, to find which of them a query word may mean.

    >>> lexicon = Lexicon(["diabete", "diabetique", "deces", "date"])
    >>> sorted(lexicon.candidates("diabetiques").items())
    [('diabete', 0.9), ('diabetique', 0.9)]
    >>> lexicon.candidates("dec"), lexicon.candidates("diabte")
    ({'deces': 0.8}, {'diabete': 0.6})
    """

    def __init__(self, known_words: Iterable[str], stems: Iterable[str] | None = None) -> None:
        self.words = sorted(set(known_words))
        stem_list = list(stems) if stems is not None else [stem(w) for w in self.words]
        self._by_stem: dict[str, list[str]] = {}
        self._by_length: dict[int, list[str]] = {}
        for word, word_stem in zip(self.words, stem_list, strict=True):
            self._by_stem.setdefault(word_stem, []).append(word)
            self._by_length.setdefault(len(word), []).append(word)
        self._known = set(self.words)

    def candidates(self, word: str) -> dict[str, float]:
        """Known words that ``word`` may mean, each with its best weight."""
        found: dict[str, float] = {}

        def add(words_: Iterable[str], weight: float) -> None:
            for known in words_:
                if found.get(known, 0.0) < weight:
                    found[known] = weight

        if len(word) >= 5:
            for length in (len(word) - 1, len(word), len(word) + 1):
                bucket = self._by_length.get(length, [])
                close = process.extract(
                    word, bucket, scorer=Levenshtein.distance, score_cutoff=1, limit=None
                )
                add((c[0] for c in close), ONE_TYPO)
        if len(word) >= 3:
            start = bisect.bisect_left(self.words, word)
            end = bisect.bisect_left(self.words, word + "\uffff")
            add(self.words[start:end], PREFIX)
        if len(word) >= 4:
            add(self._by_stem.get(stem(word), []), SAME_STEM)
        if word in self._known:
            add([word], EXACT)
        return found


class WordIndex:
    """In-memory inverted index from words to document ids, matched through a
    :class:`Lexicon`; :meth:`match` returns each document's best weight.

    >>> index = WordIndex([(0, ["diabetique", "principal"]), (1, ["date", "deces"])])
    >>> index.match("diabete"), index.match("dec"), index.match("date")
    ({0: 0.9}, {1: 0.8}, {1: 1.0})
    """

    def __init__(self, documents: Iterable[tuple[int, Iterable[str]]]) -> None:
        postings: dict[str, set[int]] = {}
        for doc_id, doc_words in documents:
            for word in doc_words:
                postings.setdefault(word, set()).add(doc_id)
        self._postings = postings
        self.lexicon = Lexicon(postings)

    def match(self, word: str) -> dict[int, float]:
        weights: dict[int, float] = {}
        for known, weight in self.lexicon.candidates(word).items():
            for doc_id in self._postings[known]:
                if weights.get(doc_id, 0.0) < weight:
                    weights[doc_id] = weight
        return weights
