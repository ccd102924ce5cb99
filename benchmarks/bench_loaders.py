"""Terminology loaders: seconds per loader on the reference snapshot, best of 3.

Replaces the timed assertions that used to sit in the test suite (speed is measured here,
never in tests). Run: ``.venv/bin/python benchmarks/bench_loaders.py [--from DIR]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sndskit.config import default_reference_dir
from sndskit.terminology.loaders.biology import load_biology
from sndskit.terminology.loaders.ccam import load_ccam
from sndskit.terminology.loaders.devices import load_devices
from sndskit.terminology.loaders.drugs import load_drugs
from sndskit.terminology.loaders.ghm import load_ghm

LOADERS = {
    "CCAM": load_ccam,
    "NABM": load_biology,
    "LPP": load_devices,
    "GHM": load_ghm,
    "drugs (BDPM + UCD + ATC)": load_drugs,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--from", dest="source", type=Path, default=None)
    args = parser.parse_args()
    root = args.source or default_reference_dir()[0]
    print(f"reference data: {root}")
    for name, loader in LOADERS.items():
        times = []
        for _ in range(3):
            start = time.perf_counter()
            batch = loader(root)
            times.append(time.perf_counter() - start)
        print(f"{name:<26} {min(times):6.2f} s  ({len(batch.concepts):,} concepts)")


if __name__ == "__main__":
    main()
