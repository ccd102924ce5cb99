"""Search speed: warm p50/p95 over 200+ varied queries, CLI cold start, and a plain
DuckDB ``ILIKE`` scan of the labels side by side (same store, same run).

Run: ``.venv/bin/python benchmarks/bench_terminology_speed.py`` (needs ``sndskit data import``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sndskit.config import store_path
from sndskit.terminology.evaluation import load_cases
from sndskit.terminology.search import search_concepts, store_connection

EXTRA = [
    "diabete", "diabétique", "insuffisance", "cardiaque", "rénale", "tumeur maligne", "fracture",
    "col du fémur", "grossesse", "accouchement", "césarienne", "dépression", "schizophrénie",
    "asthme", "pneumonie", "grippe", "covid", "sepsis", "hémorragie", "anémie", "obésité",
    "hypertension", "arythmie", "embolie", "thrombose", "phlébite", "AVC", "IDM", "SCA", "HTA",
    "BPCO", "IRC", "FA", "TVP", "EP", "IC", "metformine", "insuline", "statine", "aspirine",
    "paracetamol", "amoxicilline", "ibuprofène", "doliprane", "levothyrox", "kardegic",
    "prothese", "stimulateur", "pansement", "fauteuil roulant", "glycémie", "créatinine",
    "cholestérol", "ferritine", "TSH", "hémogramme", "coloscopie", "endoscopie", "scanner",
    "radiographie", "échographie", "IRM", "biopsie", "appendicectomie", "cholécystectomie",
    "E11*", "I2*", "C50-C50", "A10B%", "J44", "I21.4", "re:^I6[0-4]$", "DDAF", "3400930",
    "diabte", "infarctis", "cancr du sein", "hypertention", "pneumopatie", "alzeimer",
    "epilepsie", "migraine", "parkinson", "sclérose en plaques", "polyarthrite", "lupus",
    "psoriasis", "eczéma", "mélanome", "leucémie", "lymphome", "myélome", "cirrhose",
    "hépatite", "pancréatite", "ulcère", "reflux", "crohn", "rectocolite", "diverticulite",
]  # fmt: skip


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cases = load_cases(Path(__file__).with_name("terminology_cases.yaml"))
    queries = [(c.query, c.vocab) for c in cases] + [(q, None) for q in EXTRA]
    queries += [(q, ["CIM10"]) for q in EXTRA[:40]]
    print(f"{len(queries)} queries × {args.repeat}")

    search_concepts("warm up")
    ours = []
    for _ in range(args.repeat):
        for query, vocab in queries:
            t0 = time.perf_counter()
            search_concepts(query, vocabularies=vocab)
            ours.append(1000 * (time.perf_counter() - t0))

    con = store_connection()
    scan = []
    for _ in range(args.repeat):
        for query, _vocab in queries:
            t0 = time.perf_counter()
            con.execute(
                "SELECT vocabulary, code, label FROM concepts WHERE label ILIKE ? LIMIT 20",
                [f"%{query}%"],
            ).fetchall()
            scan.append(1000 * (time.perf_counter() - t0))

    cold = []
    env = {**os.environ, "COLUMNS": "120"}
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "sndskit",
                "codes",
                "search",
                "avc",
                "--vocab",
                "CIM10",
                "--limit",
                "1",
            ],
            check=True,
            capture_output=True,
            env=env,
        )
        cold.append(time.perf_counter() - t0)

    p50, p95 = statistics.median(ours), percentile(ours, 0.95)
    s50, s95 = statistics.median(scan), percentile(scan, 0.95)
    print(f"store: {store_path()}")
    print(f"sndskit search  warm: p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {max(ours):.1f} ms")
    print(f"DuckDB ILIKE    warm: p50 {s50:.2f} ms, p95 {s95:.2f} ms")
    print(f"ratio sndskit/ILIKE: p50 {p50 / s50:.2f}x, p95 {p95 / s95:.2f}x")
    print(
        f"CLI cold start to first result: median {statistics.median(cold):.2f} s, "
        f"max {max(cold):.2f} s"
    )


if __name__ == "__main__":
    main()
