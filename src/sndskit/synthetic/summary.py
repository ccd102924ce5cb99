"""What a generated folder holds, and what its traps do to naive counts (Arrow only).

Used by ``sndskit synth show DIR`` (and ``make demo``): for a trainer, the gap between a
naive count on the data and the truth is the lesson.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as ds

from sndskit.errors import SndskitError


def _dataset(root: Path, name: str, fmt: str | ds.FileFormat) -> ds.Dataset:
    path = root / name
    if not path.is_dir():
        raise SndskitError(f"table {name} is missing", file=root)
    return ds.dataset(str(path), format=fmt)


def summarise(root: str | Path) -> dict:
    """Counts of the dataset in ``root`` and the effect of its traps on naive counts."""
    root = Path(root)
    manifest_path = root / "truth" / "manifest.json"
    if not manifest_path.exists():
        raise SndskitError("not a synthetic dataset (no truth/manifest.json)", file=root)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    fmt: str | ds.FileFormat = manifest["layout"]["format"]
    if fmt == "csv":
        fmt = ds.CsvFileFormat(parse_options=pacsv.ParseOptions(delimiter=";"))

    def table(name: str, columns: list[str]):
        return _dataset(root, name, fmt).to_table(columns=columns)

    ben = table("IR_BEN_R", ["BEN_NIR_PSA", "BEN_IDT_ANO"])
    persons = table("truth/persons", ["fictitious"])
    conditions = table("truth/conditions", ["condition", "prevalent_at_start"])
    dispensed = table("truth/dispensings", ["table_name"])["table_name"]
    true_pha = pc.sum(pc.starts_with(dispensed, "ER_PHA_F")).as_py() or 0
    rows = manifest["rows"]
    by_condition = {}
    for name in sorted(set(conditions["condition"].to_pylist())):
        mask = pc.equal(conditions["condition"], name)
        prevalent = pc.sum(pc.and_(mask, conditions["prevalent_at_start"])).as_py() or 0
        total = pc.sum(mask).as_py() or 0
        by_condition[name] = {"cases": total, "prevalent": prevalent, "incident": total - prevalent}
    return {
        "folder": str(root),
        "parameters": manifest["parameters"],
        "persons": {
            "truth (real persons)": persons.num_rows - (pc.sum(persons["fictitious"]).as_py() or 0),
            "distinct BEN_IDT_ANO in IR_BEN_R": pc.count_distinct(ben["BEN_IDT_ANO"]).as_py(),
            "distinct BEN_NIR_PSA in IR_BEN_R": pc.count_distinct(ben["BEN_NIR_PSA"]).as_py(),
        },
        "conditions": by_condition,
        "naive_vs_truth": {
            "ER_PHA_F rows": _sum_prefix(rows, "ER_PHA_F"),
            "true town drug dispensings (truth/dispensings)": true_pha,
            "MCO stays (T_MCOaaB rows)": sum(
                n for t, n in rows.items() if t.startswith("T_MCO") and t.endswith("B")
            ),
            "true stays (truth/stays)": manifest["truth_rows"].get("stays", 0),
        },
        "rows": rows,
        "trap_rows": manifest["trap_rows"],
    }


def _sum_prefix(rows: dict[str, int], prefix: str) -> int:
    return sum(n for t, n in rows.items() if t == prefix or t.startswith(prefix + "_"))
