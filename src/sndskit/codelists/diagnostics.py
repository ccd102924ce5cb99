"""Check a code list against SNDS-shaped data: how often each code is used, and which
codes the data holds that look like they belong in the list (orphans).

Every count is masked below the privacy threshold (1–10 persons) with secondary
suppression within each code's years (the records of a code add up over its years).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz
from sqlglot import exp

from sndskit.codelists.model import Codelist
from sndskit.engines import open_engine
from sndskit.engines.datasource import DataFolder
from sndskit.engines.occurrences import identity_plan, occurrences_query
from sndskit.privacy import DEFAULT_THRESHOLD, mask_counts
from sndskit.snds.schema import DataSchema
from sndskit.snds.sources import code_locations
from sndskit.terminology.search import search_index

LEXICAL_THRESHOLD = 75  # rapidfuzz token_set_ratio between labels


def _counts(engine, vocabulary: str, codes: list[str] | None, by_year: bool) -> list[tuple]:
    """Records and distinct persons per code (and year), on an engine whose linkage steps
    (:func:`identity_plan`) are materialised."""
    occurrences = occurrences_query(DataSchema(engine.schema()), vocabulary, codes).subquery("o")
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
    return engine.fetch(query)


@contextmanager
def _linked(data: DataFolder, engine: str):
    """An engine over ``data`` with the person-linkage steps materialised."""
    runner = open_engine(engine, data)
    try:
        runner.run(identity_plan(DataSchema(runner.schema())))
        yield runner
    finally:
        runner.close()


def summarise_usage(
    codelist: Codelist,
    data: DataFolder,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    engine: str = "duckdb",
) -> list[dict[str, Any]]:
    """Records and distinct persons per code and year, small counts masked."""
    rows = []
    with _linked(data, engine) as runner:
        usage = {
            vocabulary: _counts(runner, vocabulary, sorted(_listed(codelist, vocabulary)), True)
            for vocabulary in codelist.vocabularies()
            if code_locations(vocabulary)
        }
    for vocabulary, counts in usage.items():
        labels = _listed(codelist, vocabulary)
        for code, year, records, persons in counts:
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
    return mask_counts(
        rows,
        persons="persons",
        counts=["records"],
        margins=[["vocabulary", "code"]],
        threshold=threshold,
    )


def find_orphans(
    codelist: Codelist,
    data: DataFolder,
    *,
    store: Path | None = None,
    limit: int = 50,
    threshold: int = DEFAULT_THRESHOLD,
    engine: str = "duckdb",
) -> list[dict[str, Any]]:
    """Codes in the data, not in the list, close to it: same parent as a listed code, below a
    listed code, or a label lexically close to a listed label; most frequent first."""
    index = search_index(store)
    found = []
    with _linked(data, engine) as runner:
        in_data = {
            vocabulary: _counts(runner, vocabulary, None, by_year=False)
            for vocabulary in codelist.vocabularies()
            if code_locations(vocabulary)
        }
    for vocabulary, counts in in_data.items():
        listed = {e.code: e.label for e in codelist.entries if e.vocabulary == vocabulary}
        excluded = {e.code for e in codelist.excluded if e.vocabulary == vocabulary}
        parents = {row["parent"] for row in _rows(index, vocabulary, listed) if row["parent"]}
        for code, records, persons in counts:
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
    return mask_counts(found[:limit], persons="persons", counts=["records"], threshold=threshold)


def _listed(codelist: Codelist, vocabulary: str) -> dict[str, str]:
    return {e.code: e.label for e in codelist.entries if e.vocabulary == vocabulary}


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
