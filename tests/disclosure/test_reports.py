"""Finding 7 (the OMOP quality report printed record counts of 1, 3 and 7 per code) and the
export gate on planted problems."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook
from typer.testing import CliRunner

from sndskit.cli import app
from sndskit.disclosure.scan import check_export
from sndskit.omop.report import write_report


def _report():
    records = {"A01": 7, "A02": 3, "A03": 1}  # the 11 unmapped records of CIM10
    return {
        "generated_at": "2026-01-01T00:00:00",
        "coverage": [
            {
                "vocabulary": "CIM10",
                "codes": 5,
                "codes_mapped": 2,
                "codes_approved": 1,
                "share_codes_mapped": 0.4,
                "share_codes_approved": 0.2,
                "codes_standard": None,
                "share_codes_standard": None,
                "records_total": 511,
                "records_mapped": 500,
                "records_approved": 300,
                "records_standard": None,
                "share_records_mapped": 500 / 511,
                "share_records_approved": 300 / 511,
                "share_records_standard": None,
                "records_source": "usage file",
                "codes_in_vocabulary": None,
                "share_vocabulary_mapped": None,
            }
        ],
        "top_unmapped": [
            {"vocabulary": "CIM10", "code": c, "name": c, "records": n, "share_of_records": n / 511}
            for c, n in records.items()
        ],
        "targets": None,
        "domains": [],
        "hierarchy": {"checked": 0, "consistent": 0, "examples": []},
        "cardinality": {
            "one_to_many": 0,
            "many_to_one_targets": 0,
            "examples": {"one_to_many": [], "many_to_one": []},
        },
        "status": {},
        "equivalence": {},
        "drift": None,
        "review": None,
        "review_sample": {"size": 0},
    }


def test_7_the_omop_report_masks_small_record_counts_everywhere(tmp_path):
    write_report(_report(), tmp_path)
    data = json.loads((tmp_path / "quality.json").read_text())
    assert {r["code"]: r["records"] for r in data["top_unmapped"]} == dict.fromkeys(
        ["A01", "A02", "A03"], "masked"
    )
    assert all(r["share_of_records"] == "masked" for r in data["top_unmapped"])
    assert data["disclosure"]["threshold"] == 10
    markdown = (tmp_path / "quality.md").read_text()
    assert "| CIM10 | A03 | A03 | masked |" in markdown
    html = (tmp_path / "quality.html").read_text()
    for n in (1, 3, 7):
        assert f"<td>{n}</td>" not in html
    assert "threshold 10" in html and "threshold 10" in markdown


def _planted(folder):
    folder.mkdir()
    (folder / "sas_counts.csv").write_text("age;n\n40-64;4\n65-74;120\n")  # a 4
    (folder / "one_column.csv").write_text("persons\n7\n")
    pq.write_table(  # one row per person
        pa.table({"person_id": ["P1", "P2", "P3"], "index_date": ["2019-01-02"] * 3}),
        folder / "cohort_copy.parquet",
    )
    (folder / "births.csv").write_text(
        "stratum,date_naissance,n\nA,1960-02-03,50\nB,1961-05-06,40\n"
    )
    (folder / "totals.csv").write_text("sex,persons\nmale,50\nfemale,masked\ntotal,55\n")
    (folder / "ids.csv").write_text("BEN_NIR_PSA,n\nabc,40\n")
    (folder / "r_output.csv").write_text('"year","n"\n2019,120\n2020,0\n')  # clean, from R
    book = Workbook()
    book.active.append(["region", "patients"])
    book.active.append(["north", 3])
    book.save(folder / "sheet.xlsx")
    (folder / "table.md").write_text("| code | persons |\n|---|---:|\n| A | 6 |\n")
    (folder / "page.html").write_text(
        "<table><tr><th>code</th><th>n</th></tr><tr><td>A</td><td>2</td></tr></table>"
    )


def test_export_check_finds_planted_problems_and_quarantines_them(tmp_path):
    export = tmp_path / "export"
    _planted(export)
    reports = {r.file: r for r in check_export(export)}
    failing = {
        "sas_counts.csv": "count(s) of 1-10",
        "one_column.csv": "count(s) of 1-10",
        "cohort_copy.parquet": "person-level",
        "births.csv": "exact dates",
        "totals.csv": "gives back a masked",
        "ids.csv": "identifier column",
        "sheet.xlsx": "count(s) of 1-10",
        "table.md": "count(s) of 1-10",
        "page.html": "count(s) of 1-10",
    }
    for name, reason in failing.items():
        assert reports[name].status == "fail", name
        assert any(reason in p for p in reports[name].problems), (name, reports[name].problems)
        assert (tmp_path / "quarantine" / name).exists() and not (export / name).exists()
    assert reports["r_output.csv"].status == "review"  # clean, but not written by sndskit
    assert (export / "r_output.csv").exists()
    summary = json.loads((tmp_path / "export_check.json").read_text())
    assert {f["file"] for f in summary["files"]} == set(reports)
    assert "quarantine" in (tmp_path / "export_check.md").read_text()


def test_export_check_command_exit_code(tmp_path):
    export = tmp_path / "export"
    _planted(export)
    result = CliRunner().invoke(app, ["export", "check", str(export), "--dry-run"])
    assert result.exit_code == 1 and (export / "sas_counts.csv").exists()
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "a.csv").write_text("year,n\n2019,120\n")
    assert CliRunner().invoke(app, ["export", "check", str(tmp_path / "clean")]).exit_code == 0
