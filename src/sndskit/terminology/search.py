"""French-aware concept search over every vocabulary of the store.

``search_concepts("avc", vocabularies=["CIM10"])`` → ranked hits, each saying why it matched.

Text queries: accent- and case-insensitive, all words in any order (French function words
ignored), inflections through French stems (diabète / diabétique), word prefixes, one typo
in words of 5+ letters, curated abbreviations and lay terms (with the codes below the
families they name), English WHO labels, and — when every word cannot be found together —
texts missing one word (``partial``). Code queries (``E11*``, ``E10-E14``, ``A10B%``,
``re:^I2[0-5]``, or a plain code) are taken literally: they become literals in a sqlglot
predicate, never SQL text. Ranking runs on in-memory arrays (:mod:`.index`); DuckDB serves
code patterns, relations and the final rows.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict
from sqlglot import exp

from sndskit.config import store_path
from sndskit.errors import SndskitError
from sndskit.store import connect_store
from sndskit.terminology.codes import CodePattern, parse_code_pattern
from sndskit.terminology.index import SearchIndex
from sndskit.terminology.model import VOCABULARIES
from sndskit.text import ONE_TYPO, words

MATCH_KINDS = {
    "label": "label",
    "short_label": "synonym",
    "long_label": "synonym",
    "alt_label": "synonym",
    "english": "synonym",
    "lay_term": "synonym",
    "alt_code": "code",
    "abbreviation": "abbreviation",
    "code": "code",
    "relation": "relation",
    "descendant": "descendant",
    "partial": "partial",
}
CURATED_KINDS = ("abbreviation", "lay_term")


class ConceptHit(BaseModel):
    """One search result; ``matched_by`` is label, synonym, abbreviation, code, relation,
    descendant (below a family an abbreviation named) or partial (one word missing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vocabulary: str
    code: str
    label: str
    score: float
    matched_by: str
    matched_text: str
    parent: str | None = None
    level: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None


def check_vocabularies(vocabularies: list[str] | None) -> list[str] | None:
    """Upper-case and validate vocabulary ids; unknown ones are an error listing valid ids."""
    if not vocabularies:
        return None
    cleaned = [v.strip().upper() for v in vocabularies if v.strip()]
    unknown = [v for v in cleaned if v not in VOCABULARIES]
    if unknown:
        raise SndskitError(
            f"unknown vocabulary {', '.join(unknown)}", field="vocab", allowed=list(VOCABULARIES)
        )
    return cleaned


@functools.cache
def _open(path: str, mtime_ns: int) -> tuple[duckdb.DuckDBPyConnection, list[SearchIndex]]:
    return connect_store(Path(path)), []


def _store(path: Path | None) -> tuple[duckdb.DuckDBPyConnection, list[SearchIndex]]:
    resolved = Path(path or store_path()).resolve()
    mtime = resolved.stat().st_mtime_ns if resolved.exists() else 0
    return _open(str(resolved), mtime)  # a rebuilt store gets a fresh connection and index


def store_connection(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A process-wide read-only connection to the store (warm searches reuse it)."""
    return _store(path)[0]


def search_index(path: Path | None = None) -> SearchIndex:
    """The store's in-memory search index, loaded on first use."""
    con, holder = _store(path)
    if not holder:
        holder.append(SearchIndex(con))
    return holder[0]


def _ids(values: list[int]) -> list[exp.Literal]:
    return [exp.Literal.number(int(v)) for v in values]


def _code_hits(
    con: duckdb.DuckDBPyConnection,
    pattern: CodePattern,
    mask_sql: list[exp.Expression],
    limit: int,
) -> list[int]:
    """Concept ids whose code matches ``pattern``; broader (shallower) codes first."""
    query = (
        exp.select("c.concept_id")
        .from_(exp.to_table("concepts").as_("c"))
        .where(pattern.predicate(exp.column("code", "c")), *mask_sql)
        .order_by("c.level", "c.vocabulary", "c.code")
        .limit(limit)
    )
    return [row[0] for row in con.execute(query.sql(dialect="duckdb")).fetchall()]


def _sql_filters(
    vocabularies: list[str] | None, levels: list[int] | None, valid_at: date | None
) -> list[exp.Expression]:
    conditions: list[exp.Expression] = []
    if vocabularies:
        conditions.append(
            exp.column("vocabulary", "c").isin(*(exp.Literal.string(v) for v in vocabularies))
        )
    if levels:
        conditions.append(exp.column("level", "c").isin(*_ids(levels)))
    if valid_at:
        day = exp.cast(exp.Literal.string(valid_at.isoformat()), "DATE")
        start, end = exp.column("valid_from", "c"), exp.column("valid_to", "c")
        conditions.append(exp.or_(start.is_(exp.null()), start <= day))
        conditions.append(exp.or_(end.is_(exp.null()), end >= day))
    return conditions


def _materialise(index: SearchIndex, found: list[tuple[int, float, str, str]]) -> list[ConceptHit]:
    """Hits for ``found`` = [(concept_id, score, kind, matched text)], in that order."""
    rows = index.concept_rows([f[0] for f in found])
    return [
        ConceptHit(
            **row,
            score=round(score, 2),
            matched_by=MATCH_KINDS.get(kind, kind),
            matched_text=text or row["code"],
        )
        for row, (_, score, kind, text) in zip(rows, found, strict=True)
    ]


_ROMAN_CHAPTER = re.compile(r"^(X{0,2})(IX|IV|V?I{0,3})$")


def _looks_like_code(text: str) -> bool:
    """A code holds a digit (E11, 05M09, 3400930000000) or is a CIM-10 chapter (IX)."""
    if not text or not re.fullmatch(r"[A-Z0-9+]+", text):
        return False
    return any(ch.isdigit() for ch in text) or bool(_ROMAN_CHAPTER.match(text))


def search_concepts(
    query: str,
    *,
    vocabularies: list[str] | None = None,
    levels: list[int] | None = None,
    valid_at: date | None = None,
    limit: int = 20,
    include_related: bool = True,
    store: Path | None = None,
) -> list[ConceptHit]:
    """Ranked concepts matching ``query`` (French text or a code pattern), best first.

    >>> [h.code for h in search_concepts("E11*", vocabularies=["CIM10"], limit=3)]  # doctest: +SKIP
    ['E11', 'E110', 'E111']
    """
    text = (query or "").strip()
    if not text:
        raise SndskitError("empty query: give words (e.g. 'diabète type 2') or a code pattern")
    if limit < 1:
        raise SndskitError("limit must be at least 1", field="limit")
    vocabularies = check_vocabularies(vocabularies)
    con = store_connection(store)
    index = search_index(store)
    mask = index.concept_mask(vocabularies, levels, valid_at)
    mask_sql = _sql_filters(vocabularies, levels, valid_at)
    found: list[tuple[int, float, str, str]] = []
    seen: set[int] = set()

    def add(concept_id: int, score: float, kind: str, matched: str) -> None:
        if concept_id not in seen and len(found) < limit:
            seen.add(concept_id)
            found.append((concept_id, score, kind, matched))

    pattern = parse_code_pattern(text)
    if pattern is not None:
        for concept_id in _code_hits(con, pattern, mask_sql, limit):
            add(concept_id, 100.0, "code", "")
        return _materialise(index, found)
    query_words = words(text, drop_stopwords=True)
    if not query_words:
        raise SndskitError(
            f"nothing to search for in {text!r}: French function words (de, la, du …) and "
            "punctuation are ignored; give content words or a code"
        )
    code = text.replace(".", "").replace(" ", "").upper()
    if _looks_like_code(code):
        for concept_id in _code_hits(con, CodePattern("exact", code), mask_sql, limit):
            add(concept_id, 100.0, "code", "")

    per_word = [index.lexicon.candidates(word) for word in query_words]
    ranked = index.rank(per_word, mask=mask, allow_partial=True)
    top = min(len(ranked.concept_ids), limit)
    texts = index.text_rows(ranked.text_ids[:top].tolist())
    scored: list[tuple[int, float, str, str]] = []
    for i in range(top):
        concept_id, score = int(ranked.concept_ids[i]), float(ranked.scores[i])
        kind, matched = texts[i]["kind"], texts[i]["text"]
        scored.append((concept_id, score, "partial" if ranked.partial[i] else kind, matched))
        if kind in CURATED_KINDS:  # the codes below the family an abbreviation names
            scored += [
                (child, score - 5 - depth, "descendant", f"below {matched}")
                for child, depth in index.descendants(concept_id)
                if mask is None or mask[child]
            ]
    for hit in sorted(scored, key=lambda h: -h[1]):
        add(*hit)
    if include_related and len(found) < limit:
        for hit in _linked(index, found[:5], mask):
            add(*hit)
    if include_related and mask is not None and len(found) < limit:
        for hit in _bridged(index, per_word, mask):
            add(*hit)
    return _materialise(index, found)


def _linked(index: SearchIndex, best: list[tuple], mask) -> list[tuple[int, float, str, str]]:
    """Concepts linked to the best hits: products of a substance, boxes of a product …"""
    out = []
    for concept_id, score, _, _ in best:
        seed = index.concept_rows([concept_id])[0]
        for linked, relation in index.linked_to(concept_id):
            if mask is None or mask[linked]:
                why = f"{relation} {seed['vocabulary']} {seed['code']}"
                out.append((linked, score - 20, "relation", why))
    return out


def _bridged(
    index: SearchIndex, per_word: list[dict[str, float]], mask, hops: int = 2
) -> list[tuple[int, float, str, str]]:
    """Concepts of the wanted vocabularies reached through relations from the best matches
    in *any* vocabulary: ``apixaban`` within CIP13 → substance → products → their boxes."""
    ranked = index.rank(per_word, mask=None, allow_partial=False)
    if not len(ranked.concept_ids):
        return []
    best = ranked.scores[0]
    seeds = [
        (int(c), float(s))
        for c, s in zip(ranked.concept_ids[:5], ranked.scores[:5], strict=True)
        if s >= best - 1e-9 and not mask[int(c)]
    ]
    out: list[tuple[int, float, str, str]] = []
    for seed, score in seeds:
        row = index.concept_rows([seed])[0]
        frontier = [(seed, f"{row['vocabulary']} {row['code']}")]
        for depth in range(1, hops + 1):
            following = []
            for concept_id, chain in frontier:
                for linked, relation in index.linked_to(concept_id):
                    path = f"{chain} ← {relation}"
                    if mask[linked]:
                        out.append((linked, score - 20 * depth, "relation", path))
                    else:
                        following.append((linked, path))
            frontier = following
    return out


def find_concepts(
    terms: str,
    *,
    vocabularies: list[str] | None = None,
    valid_at: date | None = None,
    allow_typos: bool = False,
    store: Path | None = None,
) -> list[ConceptHit]:
    """Every concept whose label or one synonym holds all the words of ``terms``.

    Unlike :func:`search_concepts` there is no cut-off and no partial match: this is what a
    code list includes. Words match exactly, by French stem or as a prefix; typos only when
    ``allow_typos``.
    """
    query_words = words(terms, drop_stopwords=True)
    if not query_words:
        raise SndskitError(f"nothing to search for in {terms!r}", field="terms")
    index = search_index(store)
    mask = index.concept_mask(check_vocabularies(vocabularies), None, valid_at)
    per_word = [
        {
            w: weight
            for w, weight in index.lexicon.candidates(word).items()
            if allow_typos or weight > ONE_TYPO
        }
        for word in query_words
    ]
    ranked = index.rank(per_word, mask=mask, allow_partial=False)
    texts = index.text_rows(ranked.text_ids.tolist())
    found = [
        (int(c), float(s), t["kind"], t["text"])
        for c, s, t in zip(ranked.concept_ids, ranked.scores, texts, strict=True)
    ]
    return _materialise(index, found)


def find_by_pattern(
    pattern: str, *, vocabularies: list[str] | None = None, store: Path | None = None
) -> list[ConceptHit]:
    """Every concept whose code matches a code pattern (``E11*``, ``E10-E14``, ``re:…``)."""
    parsed = parse_code_pattern(pattern)
    if parsed is None:
        raise SndskitError(f"{pattern!r} is not a code pattern", field="patterns")
    con = store_connection(store)
    ids = _code_hits(con, parsed, _sql_filters(check_vocabularies(vocabularies), None, None), 10**7)
    return _materialise(search_index(store), [(i, 100.0, "code", "") for i in ids])
