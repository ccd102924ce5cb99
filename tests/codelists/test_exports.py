"""Spreadsheet-friendly exports (`;`, BOM, XLSX) and imports (`;`, BOM, unknown codes)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from sndskit.cli import app
from sndskit.codelists.export import (
    CSV_COLUMNS,
    export_codelist,
    import_codelist,
    write_codelist_table,
)
from sndskit.codelists.model import CodeEntry, Codelist, Provenance, save_codelist
from sndskit.config import store_path
from sndskit.errors import SndskitError
from sndskit.tabular import check_separator, sniff_separator

WHY = Provenance(rule="r1", via="code", detail="x")
LIST = Codelist(
    name="doac",
    description="anticoagulants",
    built_at="2026-01-01T00:00:00+00:00",
    entries=[
        CodeEntry(vocabulary="CIM10", code="I48", label="Fibrillation, flutter", found_from=[WHY]),
        CodeEntry(
            vocabulary="CIP13", code="3400930000007", label="ÉLIQUIS; 5 mg", found_from=[WHY]
        ),
        CodeEntry(vocabulary="NABM", code="0592", label="Créatinine", found_from=[WHY]),
    ],
)


def test_semicolon_csv_with_bom_reads_back_in_a_french_spreadsheet_layout():
    text = export_codelist(LIST, "csv", sep=";", bom=True)
    assert text.startswith("\ufeffvocabulary;code;label")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert [r["code"] for r in rows] == ["I48", "3400930000007", "0592"]
    assert rows[1]["label"] == "ÉLIQUIS; 5 mg"  # the separator inside a label is quoted
    assert "\ufeff" not in export_codelist(LIST, "csv")  # default: plain comma CSV
    assert export_codelist(LIST, "csv").startswith("vocabulary,code,label")


def test_unknown_separator_is_a_clear_error():
    with pytest.raises(SndskitError) as info:
        check_separator("|")
    assert info.value.field == "sep" and ";" in info.value.allowed


def test_xlsx_export_keeps_codes_as_text(tmp_path):
    path = write_codelist_table(LIST, tmp_path / "list.xlsx", fmt="xlsx")
    sheet = load_workbook(path).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == CSV_COLUMNS
    assert [v[1] for v in values[1:]] == ["I48", "3400930000007", "0592"]  # leading zero kept
    assert values[2][2] == "ÉLIQUIS; 5 mg"


def test_xlsx_needs_a_file():
    with pytest.raises(SndskitError, match="give a file"):
        export_codelist(LIST, "xlsx")


@pytest.mark.parametrize("sep", [",", ";", "\t"])
@pytest.mark.parametrize("bom", [False, True])
def test_import_accepts_each_separator_and_a_bom(tmp_path, sep, bom):
    path = tmp_path / "list.csv"
    path.write_text(export_codelist(LIST, "csv", sep=sep, bom=bom), encoding="utf-8")
    back = import_codelist(path)
    assert [e.key for e in back.entries] == sorted(e.key for e in LIST.entries)
    assert {e.label for e in back.entries} == {e.label for e in LIST.entries}


def test_sniffing_prefers_the_header_separator():
    assert sniff_separator("vocabulary;code;label") == ";"
    assert sniff_separator("vocabulary,code") == ","
    assert sniff_separator("code") == ","


def test_latin1_file_is_a_clear_error(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        "vocabulary;code;label\nCIM10;I48;Fibrillation\nCIM10;E11;Diabète\n".encode("latin-1")
    )
    with pytest.raises(SndskitError) as info:
        import_codelist(path)
    assert "UTF-8" in str(info.value) and info.value.line == 3


def test_import_without_store_says_the_codes_were_not_checked(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("vocabulary,code\nCIM10,I48\n", encoding="utf-8")
    (warning,) = import_codelist(path, store=tmp_path / "none.duckdb").warnings
    assert "not checked" in warning


@pytest.mark.shared_data
def test_import_warns_about_unknown_codes_with_their_line(tmp_path, real_home):
    path = tmp_path / "l.csv"
    path.write_text("vocabulary;code\nCIM10;I48\nCIM10;I4899X\nCIP13;3400000000000\n", "utf-8")
    built = import_codelist(path, store=store_path(real_home))
    assert built.warnings == [
        "line 3: CIM10 code I4899X is not in the terminology store",
        "line 4: CIP13 code 3400000000000 is not in the terminology store",
    ]
    atlas = tmp_path / "l.json"
    atlas.write_text(export_codelist(built, "atlas"), encoding="utf-8")
    again = import_codelist(atlas, store=store_path(real_home))
    assert [w.split(":")[0] for w in again.warnings] == ["item 2", "item 3"]


@pytest.mark.shared_data
def test_cli_import_prints_the_warnings_and_exports_xlsx(tmp_path, real_home, monkeypatch):
    monkeypatch.setenv("SNDSKIT_HOME", str(real_home))
    source = tmp_path / "l.csv"
    source.write_text("\ufeffvocabulary;code\nCIM10;I48\nCIM10;ZZZ9\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["codelist", "import", str(source), "-o", str(tmp_path / "l.json")])
    assert result.exit_code == 0, result.output
    assert "CIM10 code ZZZ9 is not in the terminology store" in result.output
    out = tmp_path / "l.xlsx"
    result = runner.invoke(
        app, ["codelist", "export", str(tmp_path / "l.json"), "--format", "xlsx", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert [c.value for c in load_workbook(out).active["B"]] == ["code", "I48", "ZZZ9"]


def test_cli_semicolon_export_to_stdout(tmp_path):
    path = save_codelist(LIST, tmp_path / "l.json")
    result = CliRunner().invoke(app, ["codelist", "export", str(path), "--sep", ";", "--bom"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("\ufeffvocabulary;code;label;rules")


def test_atlas_without_an_omop_vocabulary_warns_that_ids_are_empty(tmp_path, monkeypatch):
    monkeypatch.setenv("SNDSKIT_HOME", str(tmp_path / "home"))
    path = save_codelist(LIST, tmp_path / "l.json")
    result = CliRunner().invoke(app, ["codelist", "export", str(path), "--format", "atlas"])
    assert result.exit_code == 0, result.output
    assert "no OMOP vocabulary loaded" in result.stderr
    assert all(i["concept"]["CONCEPT_ID"] is None for i in json.loads(result.stdout)["items"])
