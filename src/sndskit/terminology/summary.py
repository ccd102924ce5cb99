"""What the store holds per vocabulary, and the relations of one concept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlglot import exp

from sndskit.terminology.search import check_vocabularies, store_connection

# Drug vocabularies whose link to ATC may be inferred: coverage is reported for each.
_ATC_LINKS = {"CIP13": "CIP13_HAS_ATC", "CIS": "CIS_HAS_ATC", "UCD": "UCD_HAS_ATC"}


def summarise_vocabularies(*, store: Path | None = None) -> list[dict[str, Any]]:
    """Concept counts and source versions per vocabulary, with ATC-link coverage for drugs."""
    con = store_connection(store)
    rows = con.execute(
        "SELECT vocabulary, description, concepts, version FROM vocabularies ORDER BY vocabulary"
    ).fetchall()
    coverage = {
        (vocabulary, inferred): n
        for vocabulary, inferred, n in con.execute(
            "SELECT vocabulary_1, inferred, count(DISTINCT code_1) FROM relations "
            "WHERE relation IN ('CIP13_HAS_ATC', 'CIS_HAS_ATC', 'UCD_HAS_ATC') GROUP BY ALL"
        ).fetchall()
    }
    out = []
    for vocabulary, description, concepts, version in rows:
        entry: dict[str, Any] = {
            "vocabulary": vocabulary,
            "description": description,
            "concepts": concepts,
            "version": version,
        }
        if vocabulary in _ATC_LINKS:
            referenced = coverage.get((vocabulary, False), 0)
            inferred = coverage.get((vocabulary, True), 0)
            entry["atc_link"] = {
                "relation": _ATC_LINKS[vocabulary],
                "from_referential": referenced,
                "inferred": inferred,
                "share_with_atc": round((referenced + inferred) / concepts, 4) if concepts else 0,
            }
        out.append(entry)
    return out


def get_related(vocabulary: str, code: str, *, store: Path | None = None) -> list[dict[str, Any]]:
    """Typed relations of a concept, both directions, with the other side's label."""
    (vocabulary,) = check_vocabularies([vocabulary])
    con = store_connection(store)
    out = []
    for side, other in (("1", "2"), ("2", "1")):
        query = (
            exp.select(
                "r.relation",
                f"r.vocabulary_{other}",
                f"r.code_{other}",
                "c.label",
                "r.inferred",
                "r.source",
            )
            .from_(exp.to_table("relations").as_("r"))
            .join(
                exp.to_table("concepts").as_("c"),
                on=f"c.vocabulary = r.vocabulary_{other} AND c.code = r.code_{other}",
                join_type="left",
            )
            .where(exp.column(f"vocabulary_{side}", "r").eq(exp.Literal.string(vocabulary)))
            .where(exp.column(f"code_{side}", "r").eq(exp.Literal.string(code)))
            .order_by("r.relation", f"r.code_{other}")
        )
        for relation, other_vocab, other_code, label, inferred, source in con.execute(
            query.sql(dialect="duckdb")
        ).fetchall():
            out.append(
                {
                    "relation": relation,
                    "direction": "outgoing" if side == "1" else "incoming",
                    "vocabulary": other_vocab,
                    "code": other_code,
                    "label": label,
                    "inferred": inferred,
                    "source": source,
                }
            )
    return out
