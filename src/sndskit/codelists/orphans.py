"""Candidate orphan codes: codes *related* to a code list that the list does not hold.

:func:`related_codes` looks only at the terminology, never at label wording (a lexical
match made paracetamol boxes "close to" ELIQUIS and obesity "close to" atrial
fibrillation). A code is related when it is

- **below** a listed code (``I480`` under ``I48``);
- a **sibling** of a listed code under a codable parent (``I481`` next to ``I480`` in
  ``I48``), or under a small structural family of at most :data:`MAX_FAMILY` members
  (``E13`` next to ``E11`` in the block ``E10-E14``; the 23 categories of ``I30-I52`` are
  not one family);
- a drug of the **same substance** (other boxes of the products holding it) or of the
  **same ATC class** (ATC level 4, e.g. ``B01AF`` direct factor Xa inhibitors), from the
  BDPM and UCD relations of the store.

:func:`~sndskit.codelists.diagnostics.find_orphans` keeps the related codes that occur in
the data, most frequent first.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sndskit.codelists.model import Codelist
from sndskit.terminology.model import is_codable
from sndskit.terminology.search import search_index, store_connection

MAX_FAMILY = 10
ATC_CLASS_LENGTH = 5  # ATC level 4: chemical/therapeutic subgroup (B01AF)
SUBSTANCE_PATHS: dict[str, tuple[str, ...]] = {
    "CIP13": ("CIP13_BOX_OF_CIS", "CIS_HAS_SUBSTANCE"),
    "CIP7": ("CIP7_BOX_OF_CIS", "CIS_HAS_SUBSTANCE"),
    "CIS": ("CIS_HAS_SUBSTANCE",),
    "UCD": ("UCD_HAS_SUBSTANCE",),
}
ATC_RELATIONS: dict[str, str] = {
    "CIP13": "CIP13_HAS_ATC",
    "CIP7": "CIP7_HAS_ATC",
    "CIS": "CIS_HAS_ATC",
    "UCD": "UCD_HAS_ATC",
}


def _hop(relation: str, codes: Iterable[str], *, backwards: bool, store) -> list[tuple]:
    """``(from, to)`` pairs of one relation, walked forwards or backwards from ``codes``."""
    here, there = ("code_2", "code_1") if backwards else ("code_1", "code_2")
    return (
        store_connection(store)
        .execute(
            f"SELECT {here}, {there} FROM relations WHERE relation = ? "
            f"AND list_contains(?, {here})",
            [relation, sorted(set(codes))],
        )
        .fetchall()
    )


def _walk(codes: Iterable[str], path: tuple[str, ...], *, backwards: bool, store) -> dict:
    """``start code → set of end codes`` along ``path`` (reversed when ``backwards``)."""
    frontier = {code: {code} for code in codes}
    for relation in reversed(path) if backwards else path:
        if not frontier:
            break
        pairs = _hop(relation, frontier, backwards=backwards, store=store)
        following: dict[str, set[str]] = {}
        for origin, reached in frontier.items():
            for a, b in pairs:
                if a in reached:
                    following.setdefault(origin, set()).add(b)
        frontier = following
    return frontier


def _by_substance(vocabulary: str, listed: set[str], store) -> dict[str, str]:
    path = SUBSTANCE_PATHS.get(vocabulary)
    if path is None:
        return {}
    substances = set().union(*_walk(listed, path, backwards=False, store=store).values())
    out: dict[str, str] = {}
    for substance, codes in sorted(_walk(substances, path, backwards=True, store=store).items()):
        for code in codes - listed:
            out.setdefault(code, f"same substance ({substance}) as listed codes")
    return out


def _by_atc_class(vocabulary: str, listed: set[str], store) -> dict[str, str]:
    relation = ATC_RELATIONS.get(vocabulary)
    if relation is None:
        return {}
    pairs = (
        store_connection(store)
        .execute("SELECT code_1, code_2 FROM relations WHERE relation = ?", [relation])
        .fetchall()
    )
    classes = {atc[:ATC_CLASS_LENGTH] for code, atc in pairs if code in listed}
    classes = {c for c in classes if len(c) == ATC_CLASS_LENGTH}
    return {
        code: f"same ATC class ({atc[:ATC_CLASS_LENGTH]}) as listed codes"
        for code, atc in sorted(pairs)
        if code not in listed and atc[:ATC_CLASS_LENGTH] in classes
    }


def _by_hierarchy(vocabulary: str, listed: set[str], store) -> dict[str, str]:
    index = search_index(store)
    out: dict[str, str] = {}
    ids = {code: index.concept_id(vocabulary, code) for code in sorted(listed)}
    for code, concept_id in ids.items():
        if concept_id is None:
            continue
        for row in index.concept_rows([c for c, _ in index.descendants(concept_id)]):
            out.setdefault(row["code"], f"below listed code {code}")
    rows = index.concept_rows([i for i in ids.values() if i is not None])
    parents = {row["parent"] for row in rows if row["parent"]}
    con = store_connection(store)
    for parent in sorted(parents):
        siblings = [
            r[0]
            for r in con.execute(
                "SELECT code FROM concepts WHERE vocabulary = ? AND parent = ? ORDER BY code",
                [vocabulary, parent],
            ).fetchall()
        ]
        if is_codable(vocabulary, parent) or len(siblings) <= MAX_FAMILY:
            for sibling in siblings:
                out.setdefault(sibling, f"same parent ({parent}) as listed codes")
                sibling_id = index.concept_id(vocabulary, sibling)
                below = index.descendants(sibling_id) if sibling_id is not None else []
                for row in index.concept_rows([c for c, _ in below]):
                    out.setdefault(row["code"], f"below {sibling}, same parent ({parent})")
    return out


def related_codes(
    codelist: Codelist, vocabulary: str, *, store: Path | None = None
) -> dict[str, str]:
    """``code → reason`` for the codes of ``vocabulary`` related to the list (see the module
    docstring), minus the listed and the excluded codes."""
    listed = {e.code for e in codelist.entries if e.vocabulary == vocabulary}
    excluded = {e.code for e in codelist.excluded if e.vocabulary == vocabulary}
    if not listed:
        return {}
    out: dict[str, str] = {}
    for finder in (_by_hierarchy, _by_substance, _by_atc_class):
        for code, reason in finder(vocabulary, listed, store).items():
            out.setdefault(code, reason)
    return {c: r for c, r in out.items() if c not in listed and c not in excluded}
