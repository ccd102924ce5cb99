"""Search quality: recall of the expected codes in the top 20 and MRR, per category.

Cases: ``benchmarks/terminology_cases.yaml`` (written from domain knowledge). Needs a store
built from the full reference data (``sndskit data import``). Prints the summary and every
case that misses a code. Run: ``.venv/bin/python benchmarks/bench_terminology_quality.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sndskit.terminology.evaluation import evaluate_case, load_cases, summarise_results

CASES = Path(__file__).with_name("terminology_cases.yaml")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("-k", type=int, default=20)
    args = parser.parse_args()
    results = [evaluate_case(c, k=args.k, store=args.store) for c in load_cases(CASES)]
    print(f"{'category':<14}{'cases':>6}{'recall@' + str(args.k):>11}{'MRR':>8}")
    for name, row in summarise_results(results).items():
        print(f"{name:<14}{row['cases']:>6}{row['recall']:>11.3f}{row['mrr']:>8.3f}")
    for r in results:
        if r.missing:
            print(f"  miss {r.case.category:<12} {r.case.query!r}: {', '.join(r.missing)}")


if __name__ == "__main__":
    main()
