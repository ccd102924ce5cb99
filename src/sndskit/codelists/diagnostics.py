"""Check a code list against SNDS-shaped data: how often each code is used, and which
codes the data holds that look like they belong in the list (orphans).

Every count is masked below the privacy threshold (1–10 persons) with secondary
suppression within each code's years (the records of a code add up over its years).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlglot import exp

from sndskit.codelists.model import Codelist
from sndskit.codelists.orphans import related_codes
from sndskit.engines.datasource import DataFolder
from sndskit.engines.occurrences import code_locations, occurrences_query
from sndskit.privacy import DEFAULT_THRESHOLD, mask_counts
from sndskit.terminology.search import search_index


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
    codelist: Codelist, data: DataFolder, *, threshold: int = DEFAULT_THRESHOLD
) -> list[dict[str, Any]]:
    """Records and distinct persons per code and year, small counts masked."""
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
) -> list[dict[str, Any]]:
    """Codes in the data, not in the list, related to it in the terminology (hierarchy, same
    substance or ATC class: :func:`~sndskit.codelists.orphans.related_codes`); most frequent
    first."""
    index = search_index(store)
    found = []
    for vocabulary in codelist.vocabularies():
        if vocabulary not in code_locations():
            continue
        related = related_codes(codelist, vocabulary, store=store)
        for code, records, persons in _counts(data, vocabulary, None, by_year=False):
            concept = next(iter(_rows(index, vocabulary, [code])), None)
            reason = related.get(code)
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


def _rows(index, vocabulary: str, codes) -> list[dict]:
    ids = [i for c in codes if (i := index.concept_id(vocabulary, c)) is not None]
    return index.concept_rows(ids)
