"""Search quality against written expectations: recall in the top k and MRR.

Cases are YAML rows ``{query, vocab?, expected: [codes], category}`` written from domain
knowledge (``benchmarks/terminology_cases.yaml``), never from the tool's own output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sndskit.errors import SndskitError
from sndskit.terminology.search import search_concepts

Category = Literal[
    "diagnosis",
    "procedure",
    "drug",
    "biology",
    "device",
    "abbreviation",
    "typo",
    "lay_term",
    "code_pattern",
]


class SearchCase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    query: str
    vocab: list[str] | None = None
    expected: list[str] = Field(min_length=1)
    category: Category


class CaseResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    case: SearchCase
    found: list[str]
    missing: list[str]
    recall: float
    reciprocal_rank: float


def load_cases(path: Path) -> list[SearchCase]:
    """Read and validate a cases file; errors name the file, the case and the field."""
    try:
        rows = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise SndskitError(f"invalid YAML ({exc})", file=path, line=line) from None
    cases = []
    for index, row in enumerate(rows or [], start=1):
        try:
            cases.append(SearchCase.model_validate(row))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise SndskitError(
                f"case {index}: {err['msg']}", file=path, field=".".join(map(str, err["loc"]))
            ) from None
    return cases


def evaluate_case(case: SearchCase, *, k: int = 20, store: Path | None = None) -> CaseResult:
    hits = search_concepts(case.query, vocabularies=case.vocab, limit=k, store=store)
    codes = [hit.code for hit in hits]
    expected = [code.replace(".", "") for code in case.expected]
    found = [code for code in expected if code in codes]
    ranks = [codes.index(code) + 1 for code in found]
    return CaseResult(
        case=case,
        found=found,
        missing=[code for code in expected if code not in codes],
        recall=len(found) / len(expected),
        reciprocal_rank=1 / min(ranks) if ranks else 0.0,
    )


def summarise_results(results: list[CaseResult]) -> dict[str, dict[str, float]]:
    """Mean recall@k and MRR per category and overall."""
    groups: dict[str, list[CaseResult]] = {"all": results}
    for result in results:
        groups.setdefault(result.case.category, []).append(result)
    return {
        name: {
            "cases": len(items),
            "recall": round(sum(r.recall for r in items) / len(items), 4),
            "mrr": round(sum(r.reciprocal_rank for r in items) / len(items), 4),
        }
        for name, items in sorted(groups.items())
        if items
    }
