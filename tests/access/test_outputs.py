"""EDB and dossier files: one data model, several formats, French and English."""

from __future__ import annotations

import csv

import pytest
from openpyxl import load_workbook

from sndskit.access.dossier import export_dossier, required_documents
from sndskit.access.edb import build_edb
from sndskit.access.render import export_edb
from sndskit.access.spec import load_study
from sndskit.errors import SndskitError
from tests.access.conftest import STUDY


@pytest.fixture
def edb(store_home):
    return build_edb(load_study(STUDY))


def test_the_formats_hold_the_same_rows(edb, tmp_path):
    export_edb(edb, tmp_path)
    variables = edb.variables()
    with (tmp_path / "edb_variables.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["table"], r["variable"]) for r in rows] == [(v.table, v.column) for v in variables]
    book = load_workbook(tmp_path / "edb.xlsx", read_only=True)
    assert book.sheetnames == ["Synthèse", "BENEFICIAIRE", "DCIR", "PMSI MCO", "Identifiants"]
    dcir = list(book["DCIR"].iter_rows(values_only=True))
    assert dcir[0] == (
        "Table",
        "Variable",
        "Libellé",
        "Années",
        "Justification",
        "Identifiant potentiel",
    )
    assert len(dcir) - 1 == sum(len(t.variables) for t in edb.components()["DCIR"])
    identifiers = list(book["Identifiants"].iter_rows(values_only=True))[1:]
    assert {(r[0], r[1]) for r in identifiers} == {
        ("ER_PRS_F", "EXE_SOI_DTD"),
        ("T_MCOaaC", "EXE_SOI_DTD"),
        ("IR_BEN_R", "BEN_DCD_DTE"),
    }
    markdown = (tmp_path / "edb.md").read_text(encoding="utf-8")
    for v in variables:
        assert f"| {v.table} | {v.column} |" in markdown
    html = (tmp_path / "edb.html").read_text(encoding="utf-8")
    for cohort in edb.cohorts:  # code-list annexes: every code of every list, once
        for codelist in cohort.codelists.values():
            with (tmp_path / "codelists" / f"{codelist.name}.csv").open(encoding="utf-8") as f:
                codes = [(r["vocabulary"], r["code"]) for r in csv.DictReader(f)]
            assert codes == [(e.vocabulary, e.code) for e in codelist.entries]
    separators = [line for line in markdown.splitlines() if line.startswith("|---")]
    assert html.count("<table>") == len(separators) and html.count("<h1>") == 1


def test_markdown_sections_french_and_english(edb, tmp_path):
    export_edb(edb, tmp_path / "fr")
    export_edb(edb, tmp_path / "en", lang="en")
    fr = (tmp_path / "fr" / "edb.md").read_text(encoding="utf-8")
    en = (tmp_path / "en" / "edb.md").read_text(encoding="utf-8")
    for heading in (
        "Composantes du SNDS",
        "Population cible",
        "Périodes et durées",
        "Données demandées",
        "Variables potentiellement identifiantes",
    ):
        assert heading in fr
    for heading in (
        "SNDS components",
        "Target population",
        "Periods and durations",
        "Data requested",
        "Potentially identifying variables",
    ):
        assert heading in en
    assert "| PMSI MCO | T_MCOaaB | 2020–2024 (T_MCO20B … T_MCO24B) |" in fr
    assert "| DCIR | ER_PRS_F | flux 01/2020 → 06/2024 |" in en
    assert "objectif O2 : Décès hospitalier" in fr and "objective O2: Décès" in en
    assert "Liste de codes « t2d_drugs »" in fr  # code-list annex
    assert "Population « acs_hospitalised »" in fr  # `cohort describe`


def test_a_text_starting_with_equals_stays_text(write_study, tmp_path):
    from tests.access.conftest import example_study

    data = example_study()
    data["reference"] = '=HYPERLINK("http://x")'
    export_edb(build_edb(write_study(data)), tmp_path)
    book = load_workbook(tmp_path / "edb.xlsx")
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert [c.value for c in cells if str(c.value).startswith("=")] == [data["reference"]]


def test_unknown_language_is_refused(edb, tmp_path):
    with pytest.raises(SndskitError, match="allowed: fr, en"):
        export_edb(edb, tmp_path, lang="de")


def test_an_unjustified_identifier_is_marked_in_the_edb(write_study, tmp_path):
    from tests.access.conftest import example_study

    data = example_study()
    data["identifiers"] = data["identifiers"][:1]  # exact death date no longer justified
    export_edb(build_edb(write_study(data)), tmp_path)
    markdown = (tmp_path / "edb.md").read_text(encoding="utf-8")
    row = next(line for line in markdown.splitlines() if line.startswith("| date exacte de décès"))
    assert "IR_BEN_R.BEN_DCD_DTE" in row and "NON JUSTIFIÉE" in row


def test_dossier_documents_present_and_missing(edb, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("Protocole_v2.docx", "resume.md", "formulaire_CNIL.pdf", "AIPD.pdf"):
        (docs / name).write_bytes(b"x")
    rows = {r["id"]: r for r in required_documents(edb, docs)}
    # standard route, no design office: no design-office declaration, no MR compliance form
    assert set(rows) == {
        "protocol",
        "summary",
        "doi_controller",
        "doi_implementer",
        "cnil_form",
        "information_notice",
        "security",
        "impact_assessment",
        "funders",
    }
    present = {k for k, r in rows.items() if r["status"] == "present"}
    assert present == {"protocol", "summary", "cnil_form", "impact_assessment"}
    assert rows["protocol"]["files"] == "Protocole_v2.docx"
    written = export_dossier(edb, tmp_path / "out", docs)
    assert [p.name for p in written] == [
        "donnees_requises.md",
        "donnees_requises.docx",
        "resume.md",
        "pieces.md",
        "pieces.csv",
    ]
    data = (tmp_path / "out" / "donnees_requises.md").read_text(encoding="utf-8")
    assert data.startswith("# Données requises") and "| DCIR | ER_PHA_F |" in data
    assert all(r["status"] == "unchecked" for r in required_documents(edb))


def test_a_failed_export_keeps_the_previous_files(edb, tmp_path, monkeypatch):
    export_edb(edb, tmp_path)
    before = (tmp_path / "edb.xlsx").read_bytes()
    import openpyxl.workbook.workbook as wb

    def broken(self, filename):
        raise OSError("disk full")

    monkeypatch.setattr(wb.Workbook, "save", broken)
    with pytest.raises(OSError):
        export_edb(edb, tmp_path, lang="en")
    assert (tmp_path / "edb.xlsx").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
