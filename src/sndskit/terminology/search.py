"""French-aware concept search over every vocabulary of the store.

``search_concepts("avc", vocabularies=["CIM10"])`` → ranked hits, each saying why it matched.

Text queries: accent- and case-insensitive, all words in any order (French function words
ignored), inflections through French stems (diabète / diabétique), word prefixes, one typo
in words of 5+ letters, curated abbreviations and lay terms, English WHO labels. Code
queries (``E11*``, ``E10-E14``, ``A10B%``, ``re:^I2[0-5]``, or a plain code) are taken
literally: they become literals in a sqlglot predicate, never SQL text.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from pathlib import Path

import duckdb
import sqlglot
from pydantic import BaseModel, ConfigDict
from sqlglot import exp

from sndskit.config import store_path
from sndskit.errors import SndskitError
from sndskit.store import connect_store
from sndskit.terminology.codes import CodePattern, parse_code_pattern
from sndskit.terminology.model import VOCABULARIES
from sndskit.text import Lexicon, words

MATCH_KINDS = {
    "partial": "partial", "descendant": "descendant",
    "label": "label", "short_label": "synonym", "long_label": "synonym", "alt_label": "synonym",
    "english": "synonym", "lay_term": "synonym", "abbreviation": "abbreviation",
}  # fmt: skip

# Classifications first, then substances, products, and boxes/units last on equal text match.
_VOCAB_PRIOR = {"CIP13": -2, "CIP7": -2, "UCD": -1, "CIS": -1, "SUBSTANCE": 1}
_KIND_FACTOR = {"label": 1.0, "abbreviation": 1.05, "english": 0.85}  # other synonyms: 0.95

# Ranks the texts holding every query word. `cand` (word, query word index, weight) and the
# word list are literals placed in the tree by _text_hits; so are the filters and the limit.
_TEXT_QUERY = sqlglot.parse_one(
    """
    WITH per_text AS (
      SELECT w.text_id, c.qi, max(c.weight) AS weight, any_value(w.concept_id) AS concept_id,
             any_value(w.vocabulary) AS vocabulary, any_value(w.level) AS level,
             any_value(w.kind) AS kind, any_value(w.n_words) AS n_words
      FROM search_words AS w JOIN candidate_words AS c ON w.word = c.word
      WHERE w.word IN (:word_list)
      GROUP BY w.text_id, c.qi
    ),
    texts AS (
      SELECT text_id, any_value(concept_id) AS concept_id, any_value(vocabulary) AS vocabulary,
             any_value(level) AS level,
             100 * sum(weight) / :n_words * any_value(kind_factor(kind))
               + 15.0 * count(*) / greatest(any_value(n_words), :n_words)
               + any_value(vocab_prior(vocabulary)) AS score
      FROM per_text GROUP BY text_id HAVING count(*) >= :min_words
    )
    SELECT concept_id, arg_max(text_id, score) AS text_id, max(score) AS score,
           any_value(level) AS level
    FROM texts GROUP BY concept_id
    ORDER BY score DESC, level, concept_id
    """,
    dialect="duckdb",
)


_DESCENDANTS_OF = sqlglot.parse_one(
    """
    WITH RECURSIVE tree(concept_id, vocabulary, code, head, depth, score) AS (
      SELECT h.concept_id, h.vocabulary, h.code, h.code, 0, s.score
      FROM seeds AS s JOIN concepts AS h ON h.concept_id = s.concept_id
      UNION ALL
      SELECT c.concept_id, c.vocabulary, c.code, t.head, t.depth + 1, t.score
      FROM tree AS t JOIN concepts AS c ON c.vocabulary = t.vocabulary AND c.parent = t.code
      WHERE t.depth < 6
    )
    SELECT t.concept_id, max(t.score) - 5 - min(t.depth) AS score,
           concat('below ', arg_min(t.head, t.depth)) AS why
    FROM tree AS t JOIN concepts AS c ON c.concept_id = t.concept_id
    WHERE t.depth > 0
    GROUP BY t.concept_id
    ORDER BY score DESC, t.concept_id
    LIMIT :limit
    """,
    dialect="duckdb",
)


def _case(column: exp.Expression, values: dict[str, float], default: float) -> exp.Case:
    return exp.Case(
        ifs=[
            exp.If(this=column.eq(exp.Literal.string(k)), true=exp.Literal.number(v))
            for k, v in values.items()
        ],
        default=exp.Literal.number(default),
    )


class ConceptHit(BaseModel):
    """One search result; ``matched_by`` is label, synonym, abbreviation, code or relation."""

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
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    return connect_store(Path(path))


def store_connection(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A process-wide read-only connection to the store (warm searches reuse it)."""
    return _connection(str(Path(path or store_path()).resolve()))


@functools.cache
def _lexicon(path: str) -> Lexicon:
    rows = _connection(path).execute("SELECT word, stem FROM search_vocab ORDER BY word").fetchall()
    return Lexicon((r[0] for r in rows), (r[1] for r in rows))


def _scan_filters(
    vocabularies: list[str] | None, levels: list[int] | None, alias: str
) -> list[exp.Expression]:
    conditions: list[exp.Expression] = []
    if vocabularies:
        column = exp.column("vocabulary", alias)
        conditions.append(column.isin(*(exp.Literal.string(v) for v in vocabularies)))
    if levels:
        column = exp.column("level", alias)
        conditions.append(column.isin(*(exp.Literal.number(n) for n in levels)))
    return conditions


def _valid_at_filter(valid_at: date | None, alias: str) -> list[exp.Expression]:
    if valid_at is None:
        return []
    day = exp.cast(exp.Literal.string(valid_at.isoformat()), "DATE")
    start, end = exp.column("valid_from", alias), exp.column("valid_to", alias)
    return [exp.or_(start.is_(exp.null()), start <= day), exp.or_(end.is_(exp.null()), end >= day)]


def _text_hits(
    candidates: list[tuple[str, int, float]],
    n_words: int,
    filters: list[exp.Expression],
    valid_at: date | None,
    limit: int,
    *,
    min_words: int,
) -> exp.Select:
    """Top concepts whose label or one synonym holds at least ``min_words`` query words."""
    values = exp.values(candidates, alias="c", columns=["word", "qi", "weight"])
    tree = exp.replace_placeholders(_TEXT_QUERY.copy(), n_words=n_words, min_words=min_words)

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name == "candidate_words":
            return values.copy()
        if isinstance(node, exp.In) and any(
            isinstance(e, exp.Placeholder) for e in node.expressions
        ):
            words_ = sorted({w for w, _, _ in candidates})
            return node.this.isin(*(exp.Literal.string(w) for w in words_))
        if isinstance(node, exp.Anonymous) and node.name == "kind_factor":
            return _case(node.expressions[0], _KIND_FACTOR, 0.95)
        if isinstance(node, exp.Anonymous) and node.name == "vocab_prior":
            return _case(node.expressions[0], _VOCAB_PRIOR, 0)
        return node

    tree = tree.transform(rewrite, copy=False)
    per_text = tree.find(exp.CTE).this
    for condition in filters:
        per_text.where(condition, copy=False)
    if valid_at is not None:  # rare: check validity on the concepts themselves
        valid = exp.select("concept_id").from_("concepts").where(*_valid_at_filter(valid_at, ""))
        tree = tree.where(exp.column("concept_id").isin(query=valid))
    return tree.limit(limit)


def _code_hits(
    pattern: CodePattern, filters: list[exp.Expression], valid_at: date | None, limit: int
) -> exp.Select:
    """Concepts whose code matches ``pattern``; broader (shallower) codes first."""
    return (
        exp.select("c.concept_id", exp.alias_(exp.Literal.number(100), "score"))
        .from_(exp.to_table("concepts").as_("c"))
        .where(
            pattern.predicate(exp.column("code", "c")), *filters, *_valid_at_filter(valid_at, "c")
        )
        .order_by("c.level", "c.vocabulary", "c.code")
        .limit(limit)
    )


def _related_hits(
    seeds: list[ConceptHit], filters: list[exp.Expression], valid_at: date | None, limit: int
) -> exp.Select:
    """Concepts linked to the best hits (boxes of a product, products of a substance …)."""
    seed_rows = exp.values(
        [(h.vocabulary, h.code, h.score) for h in seeds], alias="s", columns=["v", "k", "score"]
    )
    why = exp.func(
        "concat",
        exp.column("relation", "r"),
        exp.Literal.string(" "),
        exp.column("v", "s"),
        exp.Literal.string(" "),
        exp.column("k", "s"),
    )
    query = (
        exp.select(
            "c.concept_id",
            exp.alias_(exp.Max(this=exp.column("score", "s")) - 20, "score"),
            exp.alias_(exp.func("arg_max", why, exp.column("score", "s")), "why"),
        )
        .from_(seed_rows)
        .join(exp.to_table("relations").as_("r"), on="r.vocabulary_2 = s.v AND r.code_2 = s.k")
        .join(
            exp.to_table("concepts").as_("c"),
            on="c.vocabulary = r.vocabulary_1 AND c.code = r.code_1",
        )
        .group_by("c.concept_id")
        .order_by(exp.Ordered(this=exp.column("score"), desc=True), "c.concept_id")
        .limit(limit)
    )
    conditions = [*filters, *_valid_at_filter(valid_at, "c")]
    return query.where(*conditions) if conditions else query


def _descendant_hits(
    heads: list[tuple[int, float]],
    filters: list[exp.Expression],
    valid_at: date | None,
    limit: int,
) -> exp.Select:
    """Codes below the family heads an abbreviation or lay term named (C50 → C509 …)."""
    seeds = exp.values(heads, alias="s", columns=["concept_id", "score"])
    tree = exp.replace_placeholders(_DESCENDANTS_OF.copy(), limit=limit)
    tree = tree.transform(
        lambda n: seeds.copy() if isinstance(n, exp.Table) and n.name == "seeds" else n,
        copy=False,
    )
    conditions = [*filters, *_valid_at_filter(valid_at, "c")]
    return tree.where(*conditions, copy=False) if conditions else tree


def _materialise(
    con: duckdb.DuckDBPyConnection, rows: list[tuple], kinds: dict[int, tuple[str, str]]
) -> list[ConceptHit]:
    """Concept rows for ``rows`` = [(concept_id, score)], in that order, with why they match."""
    if not rows:
        return []
    ids = [r[0] for r in rows]
    query = (
        exp.select(
            "concept_id", "vocabulary", "code", "label", "parent", "level", "valid_from", "valid_to"
        )
        .from_("concepts")
        .where(exp.column("concept_id").isin(*(exp.Literal.number(i) for i in ids)))
    )
    concepts = {r[0]: r[1:] for r in con.execute(query.sql(dialect="duckdb")).fetchall()}
    hits = []
    for concept_id, score in rows:
        vocabulary, code, label, parent, level, start, end = concepts[concept_id]
        kind, text = kinds[concept_id]
        hits.append(
            ConceptHit(
                vocabulary=vocabulary,
                code=code,
                label=label,
                score=round(float(score), 2),
                matched_by=MATCH_KINDS.get(kind, kind),
                matched_text=text or code,
                parent=parent,
                level=level,
                valid_from=start,
                valid_to=end,
            )
        )
    return hits


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
    path = str(Path(store or store_path()).resolve())
    con = _connection(path)
    concept_filters = _scan_filters(vocabularies, levels, "c")
    found: list[tuple[int, float]] = []
    kinds: dict[int, tuple[str, str]] = {}

    def collect(select: exp.Select, kind: str) -> None:
        for row in con.execute(select.sql(dialect="duckdb")).fetchall():
            if row[0] not in kinds:
                found.append((row[0], row[1]))
                kinds[row[0]] = (kind, row[2] if len(row) > 2 else "")

    pattern = parse_code_pattern(text)
    if pattern is not None:
        collect(_code_hits(pattern, concept_filters, valid_at, limit), "code")
        return _materialise(con, found, kinds)
    query_words = words(text, drop_stopwords=True)
    if not query_words:
        raise SndskitError(
            f"nothing to search for in {text!r}: French function words (de, la, du …) and "
            "punctuation are ignored; give content words or a code"
        )
    candidate_code = text.replace(".", "").replace(" ", "").upper()
    if _looks_like_code(candidate_code):
        exact = CodePattern("exact", candidate_code)
        collect(_code_hits(exact, concept_filters, valid_at, limit), "code")
    lexicon = _lexicon(path)
    candidates = [
        (known, qi, weight)
        for qi, word in enumerate(query_words)
        for known, weight in lexicon.candidates(word).items()
    ]
    n_words = len(query_words)
    matched_words = {qi for _, qi, _ in candidates}
    # Every word first; then, if that finds too little, texts missing one word ("partial").
    for min_words, partial in ((n_words, False), (n_words - 1, True)):
        if len(found) >= limit or min_words < 1 or len(matched_words) < min_words:
            break
        select = _text_hits(
            candidates,
            n_words,
            _scan_filters(vocabularies, levels, "w"),
            valid_at,
            limit,
            min_words=min_words,
        )
        rows = con.execute(select.sql(dialect="duckdb")).fetchall()
        texts = _matched_texts(con, [r[1] for r in rows])
        for concept_id, text_id, score, _ in rows:
            if concept_id not in kinds:
                found.append((concept_id, score))
                kind, matched = texts[text_id]
                kinds[concept_id] = ("partial", matched) if partial else (kind, matched)
        if not partial:
            heads = [
                (cid, score)
                for cid, score in found
                if kinds[cid][0] in ("abbreviation", "lay_term")
            ][:10]
            if heads:
                collect(_descendant_hits(heads, concept_filters, valid_at, limit), "descendant")
    if include_related and found and len(found) < limit:
        seeds = _materialise(con, found[:5], kinds)
        collect(_related_hits(seeds, concept_filters, valid_at, limit), "relation")
    return _materialise(con, found[:limit], kinds)


_ROMAN_CHAPTER = re.compile(r"^(X{0,2})(IX|IV|V?I{0,3})$")


def _looks_like_code(text: str) -> bool:
    """A code holds a digit (E11, 05M09, 3400930000000) or is a CIM-10 chapter (IX)."""
    if not text or not re.fullmatch(r"[A-Z0-9+]+", text):
        return False
    return any(ch.isdigit() for ch in text) or bool(_ROMAN_CHAPTER.match(text))


def _matched_texts(con: duckdb.DuckDBPyConnection, text_ids: list[int]) -> dict[int, tuple]:
    if not text_ids:
        return {}
    query = (
        exp.select("text_id", "kind", "text")
        .from_("search_texts")
        .where(exp.column("text_id").isin(*(exp.Literal.number(i) for i in text_ids)))
    )
    return {r[0]: (r[1], r[2]) for r in con.execute(query.sql(dialect="duckdb")).fetchall()}
