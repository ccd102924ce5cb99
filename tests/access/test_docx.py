"""The EDB and the dossier's data section as Word files: opened with python-docx and checked
against the EDB model (tables, years, variables, identifiers, code lists)."""

from __future__ import annotations

import pytest
from docx import Document

from sndskit.access.dossier import export_dossier
from sndskit.access.edb import build_edb
from sndskit.access.render import export_edb
from sndskit.access.spec import load_study
from tests.access.conftest import STUDY, example_study


@pytest.fixture
def edb(store_home):
    return build_edb(load_study(STUDY))


def _rows(document) -> list[tuple[str, ...]]:
    return [tuple(c.text for c in row.cells) for t in document.tables for row in t.rows]


def _headings(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]


def test_every_table_year_and_variable_of_the_edb_is_a_word_table_row(edb, tmp_path):
    export_edb(edb, tmp_path)
    document = Document(str(tmp_path / "edb.docx"))
    rows = _rows(document)
    for component, tables in edb.components().items():
        for table in tables:
            row = next(r for r in rows if r[:2] == (component, table.name))
            if table.yearly:  # every year requested, as a span of consecutive years
                years = sorted(table.years)
                assert years == list(range(years[0], years[-1] + 1))
                assert f"{years[0]}–{years[-1]}" in row[2] or len(years) == 1
                assert f"{table.name.replace('aa', str(years[-1])[2:])}" in row[2]
            elif table.flux:
                assert f"{table.flux[0]:%m/%Y} → {table.flux[1]:%m/%Y}" in row[2]
            for variable in table.variables.values():  # data tables: table, variable, label
                label = " ".join(variable.label.split())
                assert (table.name, variable.column, label) in {r[:3] for r in rows}
    declared = {i.kind: i for i in edb.spec.identifiers}
    for kind, variables in edb.identifying().items():
        names = ", ".join(f"{v.table}.{v.column}" for v in variables)
        row = next(r for r in rows if r[1] == names)
        if kind in declared and declared[kind].justification:
            assert row[2] == " ".join(declared[kind].justification.split())
    annexed = {(r[0], r[1]) for r in rows}
    for cohort in edb.cohorts:  # code-list annexes: every code of every list
        for codelist in cohort.codelists.values():
            missing = [e.code for e in codelist.entries if not any(e.code in r for r in annexed)]
            assert not missing, (codelist.name, missing[:5])
    text = "\n".join(p.text for p in document.paragraphs)
    assert edb.spec.title in document.core_properties.title and edb.spec.implementer.name in text
    assert f"{edb.first_year()}–{edb.last_year()}" in text


def test_headings_french_by_default_english_with_the_option(edb, tmp_path):
    export_edb(edb, tmp_path / "fr")
    export_edb(edb, tmp_path / "en", lang="en")
    fr = _headings(Document(str(tmp_path / "fr" / "edb.docx")))
    en = _headings(Document(str(tmp_path / "en" / "edb.docx")))
    for heading in (
        "Composantes du SNDS",
        "Population cible",
        "Périodes et durées",
        "Données demandées",
        "Variables potentiellement identifiantes",
    ):
        assert any(heading in h for h in fr) and not any(heading in h for h in en)
    for heading in ("SNDS components", "Target population", "Data requested"):
        assert any(heading in h for h in en) and not any(heading in h for h in fr)
    assert fr[0].startswith("Expression des besoins") and en[0].startswith("Expression of needs")
    assert set(edb.components()) <= set(fr)  # one heading per component in the data section
    assert any("acs_hospitalised" in h for h in fr)  # `cohort describe` population


def test_a_cell_starting_with_equals_stays_literal(write_study, tmp_path):
    data = example_study()
    data["identifiers"][0]["justification"] = '=HYPERLINK("http://x";"y")'
    data["reference"] = "=1+1"
    export_edb(build_edb(write_study(data)), tmp_path)
    document = Document(str(tmp_path / "edb.docx"))
    cells = [c for r in _rows(document) for c in r]
    assert '=HYPERLINK("http://x";"y")' in cells
    assert any(p.text.endswith("=1+1") for p in document.paragraphs)
    xml = (tmp_path / "edb.docx").read_bytes()
    assert b"instrText" not in xml and b"fldSimple" not in xml  # no Word field anywhere


def test_dossier_data_section_as_docx(edb, tmp_path):
    written = export_dossier(edb, tmp_path, lang="en")
    assert tmp_path / "donnees_requises.docx" in written
    document = Document(str(tmp_path / "donnees_requises.docx"))
    assert _headings(document)[0] == "Required data"
    tables = {r[1] for r in _rows(document)}
    assert {t.name for t in edb.tables.values()} <= tables


def test_a_failed_docx_keeps_the_previous_file(edb, tmp_path, monkeypatch):
    export_edb(edb, tmp_path)
    before = (tmp_path / "edb.docx").read_bytes()
    import docx.document

    def broken(self, path):
        raise OSError("disk full")

    monkeypatch.setattr(docx.document.Document, "save", broken)
    with pytest.raises(OSError):
        export_edb(edb, tmp_path, lang="en")
    assert (tmp_path / "edb.docx").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
