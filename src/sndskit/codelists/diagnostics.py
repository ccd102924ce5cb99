"""Check a code list against SNDS-shaped data: how often each code is used, and which
codes the data holds that look like they belong in the list (orphans).

Every count goes through :func:`sndskit.disclosure.tables.protect_table`: masked below the
privacy threshold (1–10 persons), with an audited secondary suppression assuming each code's
total over its years is known.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlglot import exp

from sndskit.codelists.model import Codelist
from sndskit.codelists.orphans import related_codes
from sndskit.disclosure import DEFAULT_THRESHOLD, Protection
from sndskit.disclosure.tables import protect_table
from sndskit.engines import open_engine
from sndskit.engines.datasource import DataFolder
from sndskit.engines.occurrences import identity_plan, occurrences_query
from sndskit.snds.schema import DataSchema
from sndskit.snds.sources import code_locations
from sndskit.terminology.search import search_index


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
    unsafe_threshold: bool = False,
    engine: str = "duckdb",
) -> list[dict[str, Any]]:
    """Records and distinct persons per code and year, small counts masked."""
    return protect_usage(count_usage(codelist, data, engine=engine), threshold, unsafe_threshold)[0]


def count_usage(
    codelist: Codelist, data: DataFolder, *, engine: str = "duckdb"
) -> list[dict[str, Any]]:
    """Unmasked records and distinct persons per code and year (never published as such)."""
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
    engine: str = "duckdb",
) -> list[dict[str, Any]]:
    """Codes in the data, not in the list, related to it in the terminology (hierarchy, same
    substance or ATC class: :func:`~sndskit.codelists.orphans.related_codes`); most frequent
    first."""
    index = search_index(store)
    found = []
    with _linked(data, engine) as runner:
        in_data = {
            vocabulary: _counts(runner, vocabulary, None, by_year=False)
            for vocabulary in codelist.vocabularies()
            if code_locations(vocabulary)
        }
    for vocabulary, counts in in_data.items():
        related = related_codes(codelist, vocabulary, store=store)
        for code, records, persons in counts:
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


def _listed(codelist: Codelist, vocabulary: str) -> dict[str, str]:
    return {e.code: e.label for e in codelist.entries if e.vocabulary == vocabulary}


def _rows(index, vocabulary: str, codes) -> list[dict]:
    ids = [i for c in codes if (i := index.concept_id(vocabulary, c)) is not None]
    return index.concept_rows(ids)
