"""Synthetic SNDS generator benchmark: rows per second and peak memory.

Generates ``--patients`` persons over ``--start``-``--end`` (default 1 M persons × 4 years)
with every disease module and trap, then prints wall time, rows per second (ER_PRS_F
alone, all DCIR tables, all SNDS tables, truth files) and the peak resident memory of the
whole process tree (this process + workers, sampled every 0.1 s from /proc). Targets
(issue 5): ≥ 1 M DCIR rows/s and peak memory < 4 GB whatever the number of persons.

Run: ``.venv/bin/python benchmarks/bench_synthetic.py [--patients 1000000] [--workers 2]``
(builds a store from the reference data first when ``--home`` has none).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from sndskit.config import default_reference_dir, store_path
from sndskit.refdata.importer import import_reference_data
from sndskit.synthetic import build_config, generate


class TreeMemory:
    """Peak of the summed RSS of this process and its descendants (Linux /proc)."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak_kib = 0
        self.peak_one_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        root = os.getpid()
        while not self._stop.is_set():
            rss = _tree_rss(root)
            self.peak_kib = max(self.peak_kib, sum(rss))
            self.peak_one_kib = max(self.peak_one_kib, max(rss, default=0))
            time.sleep(self.interval)


def _tree_rss(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, parent in parents.items() if parent == pid and p not in tree]
        tree.update(children)
        frontier.extend(children)
    out = []
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        out.append(int(line.split()[1]))
        except OSError:
            continue
    return out


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--start", type=int, default=2019)
    parser.add_argument("--end", type=int, default=2022)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--home", type=Path, default=None, help="SNDSKIT_HOME with a store")
    parser.add_argument("--out", type=Path, default=None, help="output folder (kept)")
    args = parser.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="sndskit-bench-home-"))
    if not store_path(home).exists():
        source = default_reference_dir()[0]
        started = time.perf_counter()
        import_reference_data(source, home=home)
        print(f"store built from {source} in {time.perf_counter() - started:.1f} s")
    out = args.out or Path(tempfile.mkdtemp(prefix="sndskit-bench-out-")) / "data"
    config = build_config(
        {
            "patients": args.patients,
            "start_year": args.start,
            "end_year": args.end,
            "seed": args.seed,
        }
    )
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 10 or done == total:
            last[0] = now
            print(f"  {done:,}/{total:,} persons", flush=True)

    with TreeMemory() as memory:
        started = time.perf_counter()
        report = generate(
            config, out, store=store_path(home), workers=args.workers, progress=progress
        )
        seconds = time.perf_counter() - started
    prs = sum(n for t, n in report.rows.items() if t.startswith("ER_PRS_F"))
    dcir = sum(n for t, n in report.rows.items() if t.startswith("ER_"))
    snds = sum(report.rows.values())
    truth = sum(report.truth_rows.values())
    rows = [
        ("persons × years", f"{args.patients:,} × {len(config.years)} ({args.start}-{args.end})"),
        ("workers (processes)", str(args.workers)),
        ("wall time", f"{seconds:.1f} s"),
        ("ER_PRS_F rows", f"{prs:,} → {prs / seconds:,.0f} rows/s"),
        ("all DCIR rows (ER_PRS_F + 5 detail tables)", f"{dcir:,} → {dcir / seconds:,.0f} rows/s"),
        ("all SNDS rows (DCIR, PMSI, referentials)", f"{snds:,} → {snds / seconds:,.0f} rows/s"),
        ("truth rows", f"{truth:,}"),
        ("peak memory, whole process tree", f"{memory.peak_kib / 1024**2:.2f} GiB"),
        ("peak memory, largest process", f"{memory.peak_one_kib / 1024**2:.2f} GiB"),
        ("output size (Parquet, zstd)", f"{_size(out) / 1024**3:.2f} GiB"),
    ]
    print("\n| measure | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    if args.out is None:
        shutil.rmtree(out.parent, ignore_errors=True)
    if args.home is None:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
