"""The catalogue site (a page per algorithm and language; code tables equal the frozen
lists), the fiches and the BOAS export."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from sndskit.algorithms import export_boas, get_algorithm, list_algorithms, render_boas
from sndskit.algorithms.docs import FICHES, build_site


class _Tables(HTMLParser):
    """Rows of every <table data-codelist=…> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._current = None
        self._row = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-codelist" in attrs:
            self._current = self.tables.setdefault(attrs["data-codelist"], [])
        elif tag == "tr" and self._current is not None:
            self._row = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._current = None
        elif tag == "tr" and self._row is not None:
            self._current.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._row is not None and data.strip():
            self._row.append(data)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    build_site(list_algorithms(), out)
    return out


def test_every_algorithm_has_a_page_in_both_languages(site):
    for lang in FICHES:
        index = (site / f"index.{lang}.html").read_text(encoding="utf-8")
        for algorithm in list_algorithms():
            page = site / f"{algorithm.id}.{lang}.html"
            assert page.is_file()
            assert f'href="{page.name}"' in index
            title = getattr(algorithm.meta.title, lang).split(" (")[0]
            assert title.replace("'", "&#x27;") in page.read_text(encoding="utf-8")


def test_code_list_tables_equal_the_frozen_lists(site):
    for algorithm in list_algorithms():
        parser = _Tables()
        parser.feed((site / f"{algorithm.id}.en.html").read_text(encoding="utf-8"))
        assert set(parser.tables) == set(algorithm.codelists)
        for ref, codelist in algorithm.codelists.items():
            rows = [tuple(r[:2]) for r in parser.tables[ref][1:]]
            assert rows == [(e.vocabulary, e.code) for e in codelist.entries]


def test_the_fiche_shows_unconfirmed_rules_and_published_validations():
    stroke = get_algorithm("stroke_hospitalised")
    fr = (stroke.path / "README.md").read_text(encoding="utf-8")
    en = (stroke.path / "README.en.md").read_text(encoding="utf-8")
    assert "Règles non confirmées par une source" in fr and "Rules no source confirms" in en
    assert "doi:10.1159/000438859" in en and "related definition" in en
    assert "ppv 0.692 [0.661–0.722]" in en
    for line in ("I60", "I64"):
        assert f"| {line}" in fr  # ICD-10 tables printed in the fiche


def test_generated_logic_follows_the_spec():
    t2d = get_algorithm("t2d_treated")
    en = (t2d.path / "README.en.md").read_text(encoding="utf-8")
    assert "rule ≥ 3 distinct dates within 365 days" in en
    assert "rule ≥ 1 distinct dates" in en and "≥ 2 distinct date(s)" in en
    assert "J-365…J+365" in en


def test_boas_export_has_the_fiche_fields_and_submission_sections():
    exported = export_boas(get_algorithm("t2d_treated"))
    assert set(exported["fiche"]) >= {
        "nom",
        "categorie_objectif",
        "auteurs",
        "domaine_medical",
        "methodologie",
        "langage",
        "donnees_utilisees",
        "statut_validation",
        "depot",
        "licence",
    }
    assert list(exported["soumission"]) == [
        "resume",
        "contexte",
        "methode",
        "validation",
        "documentation_et_licence",
        "perimetre_des_donnees",
    ]
    assert exported["fiche"]["donnees_utilisees"] == [
        "ER_ETE_F",
        "ER_PHA_F",
        "ER_PRS_F",
        "IR_BEN_R",
    ]
    text = render_boas(exported)
    assert "Règle non confirmée" in text and "## Fiche BOAS" in text


@pytest.mark.shared_data
def test_site_shows_masked_attrition_on_demo_data(synthetic, tmp_path):
    import re

    from sndskit.algorithms import run_algorithm
    from sndskit.engines.datasource import DataFolder

    algorithm = get_algorithm("breast_cancer_active")
    run = run_algorithm(algorithm, DataFolder(synthetic), tmp_path / "run", threshold=10)
    build_site([algorithm], tmp_path / "site", {algorithm.id: run.attrition}, threshold=10)
    page = (tmp_path / "site" / "breast_cancer_active.fr.html").read_text(encoding="utf-8")
    assert 'data-attrition="hospitalisation.yaml"' in page and 'data-attrition="ald.yaml"' in page
    shown = re.findall(r"<td>(\d+|masked)</td></tr>", page)
    assert shown and all(not s.isdigit() or int(s) == 0 or int(s) > 10 for s in shown)
    assert "seuil 10" in page  # the threshold is stated beside the tables
