"""Follow typed relations from codes of one vocabulary to another (drug referentials, ALD).

The known paths are data: each is a chain of relation hops, read in the direction that
leads from the source vocabulary to the target (``-`` marks a hop walked backwards).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict
from sqlglot import exp

from sndskit.errors import SndskitError
from sndskit.terminology.search import check_vocabularies, store_connection

# (from, to) → hops; "-REL" walks REL from its vocabulary_2 side to its vocabulary_1 side.
PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("ATC", "CIP13"): ("-CIP13_HAS_ATC",),
    ("ATC", "CIS"): ("-CIS_HAS_ATC",),
    ("ATC", "UCD"): ("-UCD_HAS_ATC",),
    ("ATC", "CIP7"): ("-CIP13_HAS_ATC", "-CIP7_SAME_BOX_AS_CIP13"),
    ("SUBSTANCE", "CIS"): ("-CIS_HAS_SUBSTANCE",),
    ("SUBSTANCE", "CIP13"): ("-CIS_HAS_SUBSTANCE", "-CIP13_BOX_OF_CIS"),
    ("SUBSTANCE", "CIP7"): ("-CIS_HAS_SUBSTANCE", "-CIP7_BOX_OF_CIS"),
    ("SUBSTANCE", "UCD"): ("-UCD_HAS_SUBSTANCE",),
    ("CIS", "CIP13"): ("-CIP13_BOX_OF_CIS",),
    ("CIS", "CIP7"): ("-CIP7_BOX_OF_CIS",),
    ("CIP13", "CIP7"): ("-CIP7_SAME_BOX_AS_CIP13",),
    ("CIM10", "ALD"): ("CIM10_IN_ALD",),
    ("ALD", "CIM10"): ("-CIM10_IN_ALD",),
}


class RelatedCode(BaseModel):
    """A target code reached from a source code, with the chain walked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_code: str
    code: str
    chain: tuple[str, ...]
    inferred: bool


def _hop(relation: str, codes: list[str]) -> exp.Select:
    backwards = relation.startswith("-")
    name = relation.lstrip("-")
    here, there = ("2", "1") if backwards else ("1", "2")
    return (
        exp.select(
            exp.alias_(exp.column(f"code_{here}"), "from_code"),
            exp.alias_(exp.column(f"code_{there}"), "to_code"),
            "inferred",
        )
        .from_("relations")
        .where(exp.column("relation").eq(exp.Literal.string(name)))
        .where(exp.column(f"code_{here}").isin(*(exp.Literal.string(c) for c in codes)))
    )


def follow_relations(
    vocabulary: str, codes: list[str], target: str, *, store: Path | None = None
) -> list[RelatedCode]:
    """Codes of ``target`` reached from ``codes`` of ``vocabulary`` along the known path.

    >>> follow_relations("ATC", ["A10BA02"], "CIP13")[0].chain  # doctest: +SKIP
    ('-CIP13_HAS_ATC',)
    """
    source, target = check_vocabularies([vocabulary, target])
    path = PATHS.get((source, target))
    if path is None:
        allowed = [f"{a}→{b}" for a, b in PATHS if a == source] or [f"{a}→{b}" for a, b in PATHS]
        raise SndskitError(f"no relation path from {source} to {target}", allowed=allowed)
    con = store_connection(store)
    # frontier: target-so-far code → set of (source code, inferred)
    frontier = {code: {(code, False)} for code in codes}
    for relation in path:
        if not frontier:
            break
        rows = con.execute(_hop(relation, sorted(frontier)).sql(dialect="duckdb")).fetchall()
        nxt: dict[str, set[tuple[str, bool]]] = {}
        for from_code, to_code, inferred in rows:
            for origin, was_inferred in frontier[from_code]:
                nxt.setdefault(to_code, set()).add((origin, was_inferred or bool(inferred)))
        frontier = nxt
    return sorted(
        (
            RelatedCode(source_code=origin, code=code, chain=path, inferred=inferred)
            for code, origins in frontier.items()
            for origin, inferred in origins
        ),
        key=lambda r: (r.code, r.source_code),
    )
