"""Orphan-code precision on synthetic truth (`codelist orphans`, issue #19 item 12).

For each disease module of the synthetic generator, a deliberately incomplete list is
seeded from the truth: the module's most frequent planted diagnosis (CIM-10) and the boxes
(CIP13) of its most dispensed drug. ``find_orphans`` then proposes codes present in the
data. A proposal is *relevant* when the generator planted that code for the same condition
(truth tables ``conditions.icd10``, ``stays.DGN_PAL``, ``dispensings.code``), computed
here from the truth files, not by the code under test. Precision = relevant proposals /
proposals; recall = relevant proposals / relevant codes in the data missing from the list.

Needs a store built from the full reference data (``sndskit data import``). Run:
``sndskit synth generate --patients 5000 --start 2019 --end 2020 --seed 3 --out DIR`` then
``.venv/bin/python benchmarks/bench_orphans.py --data DIR``
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sndskit.codelists.diagnostics import find_orphans
from sndskit.codelists.model import CodeEntry, Codelist, Provenance
from sndskit.engines.datasource import open_data
from sndskit.terminology.search import search_index

WHY = Provenance(rule="seed", via="code")


def _truth(data: Path) -> tuple[dict, dict, dict]:
    """Per condition: planted diagnosis counts, planted codes, and boxes per drug."""
    con = duckdb.connect()
    truth = data / "truth"

    def rows(sql: str) -> list[tuple]:
        return con.execute(sql.replace("$T", str(truth))).fetchall()

    diagnoses: dict[str, Counter] = {}
    relevant: dict[str, set[tuple[str, str]]] = {}
    for condition, code, n in rows(
        "SELECT condition, DGN_PAL, count(*) FROM read_parquet('$T/stays/*.parquet') "
        "WHERE DGN_PAL IS NOT NULL GROUP BY ALL UNION ALL SELECT condition, icd10, count(*) "
        "FROM read_parquet('$T/conditions/*.parquet') WHERE icd10 IS NOT NULL GROUP BY ALL"
    ):
        diagnoses.setdefault(condition, Counter())[code] += n
        relevant.setdefault(condition, set()).add(("CIM10", code))
    boxes: dict[str, Counter] = {}
    drug_boxes: dict[tuple[str, str], set[str]] = {}
    for condition, drug, code, n in rows(
        "SELECT condition, drug, code, count(*) FROM read_parquet('$T/dispensings/*.parquet') "
        "WHERE table_name = 'ER_PHA_F' GROUP BY ALL"
    ):
        relevant.setdefault(condition, set()).add(("CIP13", code))
        boxes.setdefault(condition, Counter())[drug] += n
        drug_boxes.setdefault((condition, drug), set()).add(code)
    seeds = {
        condition: [("CIM10", counts.most_common(1)[0][0])]
        + [("CIP13", b) for b in sorted(drug_boxes.get((condition, _top(boxes, condition)), ()))]
        for condition, counts in diagnoses.items()
        if condition != "background"
    }
    return seeds, relevant, drug_boxes


def _top(boxes: dict, condition: str) -> str | None:
    counts = boxes.get(condition)
    return counts.most_common(1)[0][0] if counts else None


def _codelist(condition: str, keys: list[tuple[str, str]]) -> Codelist:
    index = search_index()
    entries = []
    for vocabulary, code in keys:
        concept_id = index.concept_id(vocabulary, code)
        label = index.concept_rows([concept_id])[0]["label"] if concept_id is not None else ""
        entries.append(CodeEntry(vocabulary=vocabulary, code=code, label=label, found_from=[WHY]))
    return Codelist(
        name=condition,
        description="seed",
        built_at=datetime.now(UTC).isoformat(),
        entries=entries,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True, help="synthetic folder (truth/)")
    data = parser.parse_args().data
    seeds, relevant, _ = _truth(data)
    folder = open_data(data)
    total_hits = total_proposed = 0
    print(
        f"{'condition':<15}{'seed':>6}{'proposed':>10}{'relevant':>10}{'precision':>11}"
        f"{'recall':>8}"
    )
    for condition, keys in sorted(seeds.items()):
        listed = set(keys)
        proposals = find_orphans(_codelist(condition, keys), folder, limit=100_000, threshold=0)
        proposed = {(o["vocabulary"], o["code"]) for o in proposals}
        hits = proposed & relevant[condition]
        missing = relevant[condition] - listed
        precision = len(hits) / len(proposed) if proposed else float("nan")
        recall = len(hits) / len(missing) if missing else float("nan")
        total_hits += len(hits)
        total_proposed += len(proposed)
        print(
            f"{condition:<15}{len(keys):>6}{len(proposed):>10}{len(hits):>10}"
            f"{precision:>11.3f}{recall:>8.3f}"
        )
    overall = total_hits / total_proposed if total_proposed else float("nan")
    print(f"{'all':<15}{'':>6}{total_proposed:>10}{total_hits:>10}{overall:>11.3f}")


if __name__ == "__main__":
    main()
