"""Walk a vocabulary's hierarchy: descendants and ancestors of a concept."""

from __future__ import annotations

from pathlib import Path

import sqlglot
from sqlglot import exp

from sndskit.errors import UnknownNameError
from sndskit.terminology.search import ConceptHit, check_vocabularies, store_connection

# A child is below its parent code in the same vocabulary, or "in" it through one of the
# cross-vocabulary membership relations (a GHM is in its CMD).
HIERARCHY_RELATIONS = ("GHM_IN_CMD",)

_DESCENDANTS = sqlglot.parse_one(
    """
    WITH RECURSIVE tree(vocabulary, code, depth) AS (
      SELECT vocabulary, code, 1 FROM concepts WHERE vocabulary = :vocabulary AND parent = :code
      UNION ALL
      SELECT vocabulary_1, code_1, 1 FROM relations
      WHERE vocabulary_2 = :vocabulary AND code_2 = :code AND relation IN (:relations)
      UNION ALL
      SELECT c.vocabulary, c.code, t.depth + 1 FROM concepts AS c
      JOIN tree AS t ON c.vocabulary = t.vocabulary AND c.parent = t.code
      WHERE t.depth < 12
    )
    SELECT DISTINCT c.vocabulary, c.code, c.label, c.parent, c.level, c.valid_from, c.valid_to
    FROM tree AS t JOIN concepts AS c ON c.vocabulary = t.vocabulary AND c.code = t.code
    ORDER BY c.vocabulary, c.code
    """,
    dialect="duckdb",
)

_ANCESTORS = sqlglot.parse_one(
    """
    WITH RECURSIVE up(code, depth) AS (
      SELECT parent, 1 FROM concepts WHERE vocabulary = :vocabulary AND code = :code
      UNION ALL
      SELECT c.parent, u.depth + 1 FROM concepts AS c JOIN up AS u ON c.code = u.code
      WHERE c.vocabulary = :vocabulary AND c.parent IS NOT NULL AND u.depth < 50
    )
    SELECT c.vocabulary, c.code, c.label, c.parent, c.level, c.valid_from, c.valid_to
    FROM up AS u JOIN concepts AS c ON c.vocabulary = :vocabulary AND c.code = u.code
    ORDER BY u.depth
    """,
    dialect="duckdb",
)


def _rows_to_hits(rows: list[tuple], why: str) -> list[ConceptHit]:
    return [
        ConceptHit(
            vocabulary=v,
            code=c,
            label=label,
            score=0.0,
            matched_by=why,
            matched_text="",
            parent=p,
            level=lv,
            valid_from=start,
            valid_to=end,
        )
        for v, c, label, p, lv, start, end in rows
    ]


def get_concept(vocabulary: str, code: str, *, store: Path | None = None) -> ConceptHit:
    """One concept by vocabulary and code (dots ignored: ``E11.9`` = ``E119``)."""
    (vocabulary,) = check_vocabularies([vocabulary])
    clean = code.strip().replace(".", "").upper()
    con = store_connection(store)
    query = (
        exp.select("vocabulary", "code", "label", "parent", "level", "valid_from", "valid_to")
        .from_("concepts")
        .where(exp.column("vocabulary").eq(exp.Literal.string(vocabulary)))
        .where(exp.func("upper", exp.column("code")).eq(exp.Literal.string(clean)))
    )
    rows = con.execute(query.sql(dialect="duckdb")).fetchall()
    if not rows:
        raise UnknownNameError(f"{vocabulary} code", code, _near_codes(vocabulary, clean, store))
    return _rows_to_hits(rows, "code")[0]


def _near_codes(vocabulary: str, code: str, store: Path | None) -> list[str]:
    """Up to five codes sharing the longest prefix with ``code``."""
    con = store_connection(store)
    for length in range(len(code) - 1, 0, -1):
        query = (
            exp.select("code")
            .from_("concepts")
            .where(exp.column("vocabulary").eq(exp.Literal.string(vocabulary)))
            .where(exp.func("starts_with", exp.column("code"), exp.Literal.string(code[:length])))
            .order_by(exp.func("length", exp.column("code")), "code")
            .limit(5)
        )
        near = [r[0] for r in con.execute(query.sql(dialect="duckdb")).fetchall()]
        if near:
            return near
    return []


def _expand_relations(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.In) and any(isinstance(e, exp.Placeholder) for e in node.expressions):
        return node.this.isin(*(exp.Literal.string(r) for r in HIERARCHY_RELATIONS))
    return node


def _walk(template: exp.Expression, vocabulary: str, code: str, store: Path | None, why: str):
    concept = get_concept(vocabulary, code, store=store)
    query = exp.replace_placeholders(
        template.copy(), vocabulary=concept.vocabulary, code=concept.code
    )
    query = query.transform(_expand_relations, copy=False)
    rows = store_connection(store).execute(query.sql(dialect="duckdb")).fetchall()
    return _rows_to_hits(rows, why)


def get_descendants(vocabulary: str, code: str, *, store: Path | None = None) -> list[ConceptHit]:
    """Every concept below ``code`` in its vocabulary, sorted by code.

    >>> [c.code for c in get_descendants("CIM10", "E11")][:2]  # doctest: +SKIP
    ['E110', 'E1100']
    """
    return _walk(_DESCENDANTS, vocabulary, code, store, "descendant")


def get_ancestors(vocabulary: str, code: str, *, store: Path | None = None) -> list[ConceptHit]:
    """Parents of ``code`` from the nearest to the root."""
    return _walk(_ANCESTORS, vocabulary, code, store, "ancestor")


__all__ = ["get_ancestors", "get_concept", "get_descendants"]
