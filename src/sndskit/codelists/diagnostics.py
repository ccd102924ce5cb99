"""Check a code list against SNDS-shaped data: how often each code is used, and which
codes the data holds that look like they belong in the list (orphans).

Every count goes through :func:`sndskit.disclosure.tables.protect_table`: masked below the
privacy threshold (1–10 persons), with an audited secondary suppression assuming each code's
total over its years is known.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rapidfuzz import fuzz
from sqlglot import exp

from sndskit.codelists.model import Codelist
from sndskit.disclosure import DEFAULT_THRESHOLD, Protection
from sndskit.disclosure.tables import protect_table
from sndskit.engines.datasource import DataFolder
from sndskit.engines.occurrences import code_locations, occurrences_query
from sndskit.terminology.search import search_index

LEXICAL_THRESHOLD = 75  # rapidfuzz token_set_ratio between labels


def _counts(
    data: DataFolder, vocabulary: str, codes: list[str] | None, by_year: bool
) -> list[tuple]:
    occurrences = occurrences_query(data, vocabulary, codes).subquery("o")
    keys = ["code", "year"] if by_year else ["code"]
    query = (
        exp.select(
            *keys,
            exp.alias_(exp.Count(this=exp.Star()), "records"),
            exp.alias_(
                exp.Count(this=exp.Distinct(expressions=[exp.column("person_id")])), "persons"
            ),
        )
        .from_(occurrences)
        .group_by(*keys)
        .order_by(*keys)
    )
    con = data.connect()
    try:
        return con.execute(query.sql(dialect="duckdb")).fetchall()
    finally:
        con.close()


def summarise_usage(
    codelist: Codelist,
    data: DataFolder,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    unsafe_threshold: bool = False,
) -> list[dict[str, Any]]:
    """Records and distinct persons per code and year, small counts masked."""
    return protect_usage(count_usage(codelist, data), threshold, unsafe_threshold)[0]


def count_usage(codelist: Codelist, data: DataFolder) -> list[dict[str, Any]]:
    """Unmasked records and distinct persons per code and year (never published as such)."""
    rows = []
    for vocabulary in codelist.vocabularies():
        if vocabulary not in code_locations():
            continue
        labels = {e.code: e.label for e in codelist.entries if e.vocabulary == vocabulary}
        for code, year, records, persons in _counts(data, vocabulary, sorted(labels), by_year=True):
            rows.append(
                {
                    "vocabulary": vocabulary,
                    "code": code,
                    "label": labels.get(code, ""),
                    "year": year,
                    "records": records,
                    "persons": persons,
                }
            )
    return rows


def protect_usage(
    rows: list[dict[str, Any]], threshold: int, unsafe: bool = False
) -> tuple[list[dict[str, Any]], Protection]:
    """Usage rows masked, assuming each code's total over its years is known."""
    return protect_table(
        rows,
        keys=["vocabulary", "code", "year"],
        persons="persons",
        hide=["records"],
        known_margins=[["vocabulary", "code"]],
        threshold=threshold,
        unsafe=unsafe,
    )


def find_orphans(
    codelist: Codelist,
    data: DataFolder,
    *,
    store: Path | None = None,
    limit: int = 50,
    threshold: int = DEFAULT_THRESHOLD,
    unsafe_threshold: bool = False,
) -> list[dict[str, Any]]:
    """Codes in the data, not in the list, close to it: same parent as a listed code, below a
    listed code, or a label lexically close to a listed label; most frequent first."""
    index = search_index(store)
    found = []
    for vocabulary in codelist.vocabularies():
        if vocabulary not in code_locations():
            continue
        listed = {e.code: e.label for e in codelist.entries if e.vocabulary == vocabulary}
        excluded = {e.code for e in codelist.excluded if e.vocabulary == vocabulary}
        parents = {row["parent"] for row in _rows(index, vocabulary, listed) if row["parent"]}
        for code, records, persons in _counts(data, vocabulary, None, by_year=False):
            if code in listed or code in excluded:
                continue
            concept = next(iter(_rows(index, vocabulary, [code])), None)
            reason = _closeness(code, concept, listed, parents)
            if reason:
                found.append(
                    {
                        "vocabulary": vocabulary,
                        "code": code,
                        "label": concept["label"] if concept else "(not in the terminology)",
                        "reason": reason,
                        "records": records,
                        "persons": persons,
                    }
                )
    found.sort(key=lambda r: (-r["persons"], -r["records"], r["vocabulary"], r["code"]))
    masked, _ = protect_table(
        found[:limit],
        keys=["vocabulary", "code"],
        persons="persons",
        hide=["records"],
        threshold=threshold,
        unsafe=unsafe_threshold,
    )
    # masked rows last, by code: their rank would tell how large they are
    return [r for r in masked if not r["masked"]] + sorted(
        (r for r in masked if r["masked"]), key=lambda r: (r["vocabulary"], r["code"])
    )


def _rows(index, vocabulary: str, codes) -> list[dict]:
    ids = [i for c in codes if (i := index.concept_id(vocabulary, c)) is not None]
    return index.concept_rows(ids)


def _closeness(
    code: str, concept: dict | None, listed: dict[str, str], parents: set[str]
) -> str | None:
    if concept and concept["parent"] in parents:
        return f"same parent ({concept['parent']}) as listed codes"
    if concept and concept["parent"] in listed:
        return f"below listed code {concept['parent']}"
    head = next((c for c in listed if code.startswith(c) and len(c) >= 3), None)
    if head:
        return f"starts with listed code {head}"
    if concept:
        best = max(
            listed.items(),
            key=lambda kv: fuzz.token_set_ratio(concept["label"], kv[1]),
            default=None,
        )
        if best and fuzz.token_set_ratio(concept["label"], best[1]) >= LEXICAL_THRESHOLD:
            return f"label close to {best[0]} ({best[1]})"
    return None
