"""`codelist usage --out`: the usage table published through the disclosure module, with its
audit in the manifest, and accepted by the export gate."""

from __future__ import annotations

import csv
import json

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from sndskit.cli import app
from sndskit.codelists.export import import_codelist
from sndskit.codelists.model import save_codelist
from sndskit.disclosure.scan import check_export


def _write(folder, name, rows):
    pq.write_table(pa.Table.from_pylist(rows), folder / f"{name}.parquet")


def test_usage_out_writes_an_audited_export(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _write(
        data,
        "IR_BEN_R",
        [
            {"BEN_NIR_PSA": f"N{i:016d}", "BEN_RNG_GEM": 1, "BEN_IDT_ANO": f"P{i}"}
            for i in range(40)
        ],
    )
    planted = {2019: range(0, 15), 2020: range(15, 18)}  # E11: 15 persons, then 3
    for year, persons in planted.items():
        b = [
            {"ETA_NUM": "750000001", "RSA_NUM": f"{i:06d}", "DGN_PAL": "E11", "DGN_REL": None}
            for i in persons
        ]
        c = [
            {
                "ETA_NUM": "750000001",
                "RSA_NUM": f"{i:06d}",
                "NIR_ANO_17": f"N{i:016d}",
                "EXE_SOI_DTD": f"{year}-03-01",
            }
            for i in persons
        ]
        _write(data, f"T_MCO{year % 100:02d}B", b)
        _write(data, f"T_MCO{year % 100:02d}C", c)
    (tmp_path / "l.csv").write_text("vocabulary,code\nCIM10,E11\n")
    save_codelist(import_codelist(tmp_path / "l.csv"), tmp_path / "l.json")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["codelist", "usage", str(tmp_path / "l.json"), "--data", str(data), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with (out / "export" / "usage.csv").open() as handle:
        rows = {r["year"]: r for r in csv.DictReader(handle)}
    # 3 persons in 2020 (primary); 2019 masked too: the code's total would give 2020 back
    assert rows["2020"]["persons"] == rows["2019"]["persons"] == "masked"
    assert rows["2019"]["threshold"] == "10"
    manifest = json.loads((out / "export" / "manifest.json").read_text())
    assert manifest["disclosure"]["audit"]["passed"]
    assert manifest["disclosure"]["audit"]["suppressed_cells"] == 2
    assert all(r.status == "pass" for r in check_export(out / "export", move=False))
