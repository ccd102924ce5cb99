"""Desk words for SNDS variables (``resources/catalog/field_synonyms.csv``, each row sourced).

Schema descriptions do not say "ATC", "date de délivrance" or "ALD" where people look for
them: the dispensing date is ``ER_PRS_F.EXE_SOI_DTD``, the ATC class comes from joining the
CIP13 to ``IR_PHA_R``. A synonym fires when all its words are in the query, or the query's
words are all in it ("délivrance" finds "date de délivrance").
"""

from __future__ import annotations

import csv
import functools
from importlib import resources
from typing import NamedTuple

from sndskit.text import words


class FieldSynonym(NamedTuple):
    term: str
    table: str
    field: str
    note: str
    source: str


@functools.cache
def field_synonyms() -> tuple[FieldSynonym, ...]:
    path = resources.files("sndskit") / "resources" / "catalog" / "field_synonyms.csv"
    with path.open(encoding="utf-8") as handle:
        return tuple(FieldSynonym(**row) for row in csv.DictReader(handle))


def matching_synonyms(text: str) -> list[tuple[FieldSynonym, float]]:
    """Synonyms ``text`` names, each with a score: 95 for the same words, else 85 plus up
    to 10 for the share of words in common; rows listed first in the file win ties.

    >>> [(s.field, score) for s, score in matching_synonyms("motif médical ALD")][-1]
    ('MED_MTF_COD', 91.655)
    """
    query = set(words(text, drop_stopwords=True))
    if not query:
        return []
    out = []
    for row, synonym in enumerate(field_synonyms()):
        term = set(words(synonym.term, drop_stopwords=True))
        if term <= query or query <= term:
            share = len(term & query) / max(len(term), len(query))
            score = 95.0 if term == query else 85.0 + 10.0 * share
            out.append((synonym, round(score - row / 1000, 3)))
    return out
