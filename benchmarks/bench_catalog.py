"""Catalogue benchmark: store import, catalogue load, join paths, variable search.

Prints timings and, side by side in the same run, the ratio of sndskit's ranked search to a
plain DuckDB ``ILIKE`` scan of the variable table (which neither ranks, nor folds accents,
nor tolerates typos). Run: ``.venv/bin/python benchmarks/bench_catalog.py [--from DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from sndskit.catalog import get_catalog
from sndskit.config import default_reference_dir, store_path
from sndskit.errors import SndskitError
from sndskit.refdata.importer import import_reference_data

QUERIES = [
    "numero finess", "diagnostic principal", "date de deces", "code cip", "montant rembourse",
    "mode de sortie", "sexe", "date de naissance", "quantite", "code postal", "nature prestation",
    "diagnostic associe", "acte ccam", "ucd", "specialite medecin", "departement residence",
    "duree sejour", "ghm", "date entree", "identifiant patient",
]  # fmt: skip


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--from", dest="source", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    source = args.source or default_reference_dir()[0]
    home = Path(tempfile.mkdtemp(prefix="sndskit-bench-"))

    started = time.perf_counter()
    report = import_reference_data(source, home=home)
    print(
        f"import: {time.perf_counter() - started:.2f} s "
        f"({report.tables} tables, {report.nomenclatures} nomenclatures, source {source})"
    )

    started = time.perf_counter()
    catalog = get_catalog(store_path(home))
    print(f"catalogue load (cold): {1000 * (time.perf_counter() - started):.1f} ms")

    rng = random.Random(7)
    names = sorted(catalog.tables)
    pairs = [(rng.choice(names), rng.choice(names)) for _ in range(300)]
    join_times = []
    for left, right in pairs:
        t0 = time.perf_counter()
        with contextlib.suppress(SndskitError):  # disconnected pairs are timed too
            catalog.find_join_path(left, right)
        join_times.append(1000 * (time.perf_counter() - t0))
    p50, p95 = percentiles(join_times)
    print(f"join path, 300 random pairs: p50 {p50:.3f} ms, p95 {p95:.3f} ms")

    ours, scan = [], []
    con = duckdb.connect(str(store_path(home)), read_only=True)
    for _ in range(args.repeat):
        for query in QUERIES:
            t0 = time.perf_counter()
            catalog.search_fields(query)
            ours.append(1000 * (time.perf_counter() - t0))
            t0 = time.perf_counter()
            con.execute(
                "SELECT table_name, name FROM catalog_fields "
                "WHERE description ILIKE ? OR name ILIKE ?",
                [f"%{query}%", f"%{query}%"],
            ).fetchall()
            scan.append(1000 * (time.perf_counter() - t0))
    o50, o95 = percentiles(ours)
    s50, s95 = percentiles(scan)
    print(
        f"variable search ({len(ours)} queries): sndskit p50 {o50:.2f} ms p95 {o95:.2f} ms; "
        f"DuckDB ILIKE p50 {s50:.2f} ms p95 {s95:.2f} ms; ratio p50 {o50 / s50:.2f}x"
    )


if __name__ == "__main__":
    main()
