"""SNDS → OMOP-CDM 5.4 conversion: seconds, rows/s per table and peak memory, on DuckDB and
(with ``--spark``) Spark local, on synthetic SNDS generated for the run.

Run: ``.venv/bin/python benchmarks/bench_omop_etl.py --patients 250000 [--spark]``. The
terminology store ($SNDSKIT_HOME) gives the CIP13 pack sizes; no mapping store is needed
(every code unmapped: the joins run the same).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from sndskit.config import store_path
from sndskit.engines.datasource import DataFolder
from sndskit.omop.etl.codemap import prepare_code_map
from sndskit.omop.etl.runner import run_etl
from sndskit.synthetic import build_config, generate


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=50_000)
    parser.add_argument("--start", type=int, default=2019)
    parser.add_argument("--end", type=int, default=2021)
    parser.add_argument("--spark", action="store_true")
    args = parser.parse_args()
    store = store_path()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        t0 = time.perf_counter()
        config = {"patients": args.patients, "start_year": args.start, "end_year": args.end,
                  "seed": 7}  # fmt: skip
        generate(build_config(config), data, store=store, workers=1)
        print(f"generated {args.patients:,} persons in {time.perf_counter() - t0:.0f} s")
        code_map, _ = prepare_code_map([], {}, store=store if store.exists() else None)
        engines = ["duckdb", "spark"] if args.spark else ["duckdb"]
        for engine in engines:
            t0 = time.perf_counter()
            manifest = run_etl(DataFolder(data), Path(tmp) / engine, code_map=code_map,
                               engine=engine)  # fmt: skip
            seconds = time.perf_counter() - t0
            rows = sum(manifest["rows"].values())
            print(f"\n{engine}: {seconds:.1f} s, {rows:,} CDM rows ({rows / seconds:,.0f}/s), "
                  f"peak RSS of this process {_peak_mib():,.0f} MiB")  # fmt: skip
            timings = manifest["timings_seconds"]
            for table, count in manifest["rows"].items():
                spent = timings.get(f"cdm_{table}", 0) + timings.get(f"write_{table}", 0)
                rate = f"{count / spent:,.0f}/s" if spent else "-"
                print(f"  {table:<22} {count:>12,} rows  {spent:7.2f} s  {rate}")


if __name__ == "__main__":
    main()
