"""Benchmark: load an Athena-size OMOP vocabulary, and suggestion accuracy.

1. Generates, in a temporary folder and with DuckDB ``COPY``, Athena-format files
   (tab-separated, unquoted, ``YYYYMMDD`` dates) of the requested size — by default
   6 M concepts, 50 M relationships, 2 M synonyms, 10 M ancestor rows (Athena's real
   CONCEPT_ANCESTOR is larger; its size is a parameter) — then times
   :func:`sndskit.omop.load_vocabulary` in a child process and reads that child's peak RSS.
2. Builds the SNDS store from ``../shared/data`` and the OMOP sample extract, and reports
   top-1 / top-5 suggestion accuracy on the approved mappings of the test mapping set
   (``tests/omop/data/test_mappings.usagi.csv``), each code held out in turn.

Usage::

    python benchmarks/bench_omop_vocab.py [--concepts 6000000] [--relationships 50000000]
        [--synonyms 2000000] [--ancestors 10000000] [--memory-limit 2GB] [--skip-accuracy]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

GENERATORS = {
    "CONCEPT": """
        SELECT i AS concept_id,
               'Generated concept ' || i || ' of ' || (['heart', 'lung', 'kidney', 'liver',
                 'brain', 'skin'])[1 + i % 6] || ' disorder' AS concept_name,
               (['Condition', 'Drug', 'Procedure', 'Measurement', 'Observation'])[1 + i % 5]
                 AS domain_id,
               (['SNOMED', 'RxNorm', 'LOINC', 'ICD10', 'ATC'])[1 + i % 5] AS vocabulary_id,
               'Clinical Finding' AS concept_class_id,
               CASE WHEN i % 4 = 0 THEN NULL ELSE 'S' END AS standard_concept,
               CAST(i * 7 AS VARCHAR) AS concept_code,
               DATE '1970-01-01' AS valid_start_date, DATE '2099-12-31' AS valid_end_date,
               CASE WHEN i % 50 = 0 THEN 'D' ELSE NULL END AS invalid_reason
        FROM range(1, {n} + 1) t(i)""",
    "CONCEPT_RELATIONSHIP": """
        SELECT 1 + (i * 2654435761) % {concepts} AS concept_id_1,
               1 + (i * 40503 + 17) % {concepts} AS concept_id_2,
               (['Is a', 'Subsumes', 'Maps to', 'Mapped from', 'Has finding site'])[1 + i % 5]
                 AS relationship_id,
               DATE '1970-01-01' AS valid_start_date, DATE '2099-12-31' AS valid_end_date,
               NULL AS invalid_reason
        FROM range(0, {n}) t(i)""",
    "CONCEPT_SYNONYM": """
        SELECT 1 + i % {concepts} AS concept_id, 'synonym ' || i AS concept_synonym_name,
               4180186 AS language_concept_id
        FROM range(0, {n}) t(i)""",
    "CONCEPT_ANCESTOR": """
        SELECT 1 + (i * 2654435761) % {concepts} AS ancestor_concept_id,
               1 + i % {concepts} AS descendant_concept_id,
               1 + i % 4 AS min_levels_of_separation, 1 + i % 6 AS max_levels_of_separation
        FROM range(0, {n}) t(i)""",
}

LOAD_CHILD = """
import json, resource, sys, time
from sndskit.omop.vocabulary import load_vocabulary
start = time.perf_counter()
result = load_vocabulary(sys.argv[1], sys.argv[2], memory_limit=sys.argv[3])
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mib": peak,
                  "tables": {t.table: [t.rows, t.seconds] for t in result.tables}}))
"""


def generate(folder: Path, sizes: dict[str, int]) -> dict[str, float]:
    timings = {}
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    for table, n in sizes.items():
        if n <= 0:
            continue
        start = time.perf_counter()
        query = GENERATORS[table].format(n=n, concepts=sizes["CONCEPT"])
        con.execute(
            f"COPY ({query}) TO '{folder / (table + '.csv')}' "
            "(HEADER, DELIMITER '\t', QUOTE '', ESCAPE '', DATEFORMAT '%Y%m%d')"
        )
        timings[table] = time.perf_counter() - start
    con.close()
    return timings


def accuracy() -> list[dict]:
    from sndskit.config import store_path
    from sndskit.omop import Suggester, evaluate_suggestions, read_mappings
    from sndskit.omop.vocabulary import connect_vocabulary, load_vocabulary
    from sndskit.refdata.importer import import_reference_data

    scratch = tempfile.TemporaryDirectory(prefix="sndskit-bench-home-")
    home = Path(scratch.name)
    import_reference_data(SHARED, home=home)
    db = home / "omop" / "vocabulary.duckdb"
    load_vocabulary(SHARED / "omop" / "vocab-sample", db)
    mappings = read_mappings(ROOT / "tests" / "omop" / "data" / "test_mappings.usagi.csv")
    con = connect_vocabulary(db)
    results = []
    for vocabulary in ("CIM10", "CCAM"):
        approved = [m for m in mappings if m.status == "APPROVED"]
        start = time.perf_counter()
        engine = Suggester(con, vocabulary, store=store_path(home), approved=approved)
        result = evaluate_suggestions(engine, approved)
        result["seconds"] = round(time.perf_counter() - start, 2)
        results.append(result)
    con.close()
    scratch.cleanup()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concepts", type=int, default=6_000_000)
    parser.add_argument("--relationships", type=int, default=50_000_000)
    parser.add_argument("--synonyms", type=int, default=2_000_000)
    parser.add_argument("--ancestors", type=int, default=10_000_000)
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    sizes = {
        "CONCEPT": args.concepts,
        "CONCEPT_RELATIONSHIP": args.relationships,
        "CONCEPT_SYNONYM": args.synonyms,
        "CONCEPT_ANCESTOR": args.ancestors,
    }
    with tempfile.TemporaryDirectory(prefix="athena-", dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp) / "athena"
        folder.mkdir()
        generated = generate(folder, sizes)
        volume = sum(p.stat().st_size for p in folder.iterdir()) / 2**30
        print(
            f"generated {volume:.2f} GiB in {sum(generated.values()):.0f} s: "
            + ", ".join(f"{t} {sizes[t]:,} rows" for t in generated)
        )
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                LOAD_CHILD,
                str(folder),
                str(Path(tmp) / "v.duckdb"),
                args.memory_limit,
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        load = json.loads(child.stdout.strip().splitlines()[-1])
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        db_size = (Path(tmp) / "v.duckdb").stat().st_size / 2**30
        print(
            f"load: {load['seconds']:.1f} s, peak RSS {load['peak_rss_mib']:.0f} MiB "
            f"(children max {children:.0f} MiB), memory_limit {args.memory_limit}, "
            f"database {db_size:.2f} GiB"
        )
        for table, (rows, seconds) in load["tables"].items():
            print(f"  {table:22s} {rows:>12,} rows  {seconds:7.1f} s")
    if not args.skip_accuracy:
        for r in accuracy():
            print(
                f"suggest {r['vocabulary']}: top-1 {r['top1']:.3f} ({r['top1_hits']}/{r['codes']}),"
                f" top-5 {r['top5']:.3f} ({r['top5_hits']}/{r['codes']}), "
                f"{r['candidates']} candidates, {r['reachable']} reachable, {r['seconds']} s"
            )


if __name__ == "__main__":
    main()
