"""Latency of ``sndskit cohort sql`` (a frozen code list, no store needed): the whole
command, and the import of the cohort modules alone, best of N runs in fresh processes.

Target: the command answers in < 0.6 s. Run: ``.venv/bin/python
benchmarks/bench_cohort_cli.py [--repeat 5]``; ``os.getloadavg()`` is printed with the
result because this machine is shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = """name: latency
period: {start: 2019-01-01, end: 2020-12-31}
entry:
  events: [{source: drug_dispensing, codelist: drugs.json}]
  occurrences: {at_least: 3, within_days: 365}
inclusion:
  - {name: adult, age: {min: 18}}
"""


def best_of(command: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from sndskit.codelists.export import import_codelist
    from sndskit.codelists.model import save_codelist

    folder = Path(tempfile.mkdtemp(prefix="sndskit-cli-bench-"))
    (folder / "drugs.csv").write_text("vocabulary,code\nCIP13,3400000000017\n")
    save_codelist(import_codelist(folder / "drugs.csv"), folder / "drugs.json")
    (folder / "spec.yaml").write_text(SPEC)
    python = sys.executable
    bare = best_of([python, "-c", "pass"], args.repeat)
    modules = best_of(
        [python, "-c", "import sndskit.cohorts.runner, sndskit.cohorts.describe"], args.repeat
    )
    command = best_of(
        [python, "-m", "sndskit", "cohort", "sql", str(folder / "spec.yaml")], args.repeat
    )
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"python -c pass: {bare:.2f} s; cohort modules imported: {modules:.2f} s")
    print(f"sndskit cohort sql: {command:.2f} s (best of {args.repeat})")


if __name__ == "__main__":
    main()
