"""The catalogue against the shared schema snapshot, checked by independent counts."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest

from sndskit.catalog import get_nomenclature_values
from sndskit.config import store_path
from sndskit.errors import SndskitError, UnknownNameError
from tests.conftest import SCHEMA_ROOT

pytestmark = pytest.mark.shared_data

# SNDS primer §3: the 9 flux keys joining DCIR detail tables to ER_PRS_F.
FLUX_KEYS = {
    "FLX_DIS_DTD", "FLX_TRT_DTD", "FLX_EMT_TYP", "FLX_EMT_NUM", "FLX_EMT_ORD",
    "ORG_CLE_NUM", "DCT_ORD_NUM", "PRS_ORD_NUM", "REM_TYP_AFF",
}  # fmt: skip
DCIR_DETAILS = ["ER_PHA_F", "ER_UCD_F", "ER_CAM_F", "ER_BIO_F", "ER_TIP_F", "ER_ETE_F"]


def _independent_counts():
    """Count straight from the JSON files, without any sndskit code."""
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in SCHEMA_ROOT.rglob("*.json")]
    return {
        "tables": len(docs),
        "fields": sum(len(d["fields"]) for d in docs),
        "foreign_keys": sum(len(d.get("foreignKeys", [])) for d in docs),
        "primary_keys": sum(1 for d in docs if d.get("primaryKey")),
        "products": Counter(d["produit"] for d in docs),
    }


def test_counts_match_an_independent_count_and_the_primer(real_catalog):
    expected = _independent_counts()
    tables = real_catalog.tables.values()
    assert len(real_catalog.tables) == expected["tables"] == 188
    assert sum(len(t.fields) for t in tables) == expected["fields"] == 4815
    assert sum(len(t.foreign_keys) for t in tables) == expected["foreign_keys"] == 197
    assert sum(bool(t.primary_key) for t in tables) == expected["primary_keys"] == 26
    assert Counter(t.product for t in tables) == expected["products"]
    # Primer §1: products and their table counts.
    assert expected["products"]["DCIR"] == 16
    assert expected["products"]["PMSI MCO"] == 56


def test_manifest_counts_agree_with_the_catalogue(real_home, real_catalog):
    manifest = json.loads((real_home / "manifest.json").read_text())
    assert manifest["counts"]["tables"] == len(real_catalog.tables)
    assert manifest["is_sample"] is False
    assert set(manifest["counts"]["nomenclatures_without_values"]) == {
        "IR_PHA_R", "IR_PTF_R", "IR_MIR_D",  # absent CSVs listed in SOURCES.md
    }  # fmt: skip


@pytest.mark.parametrize("detail", DCIR_DETAILS)
def test_dcir_detail_joins_prestations_on_the_nine_flux_keys(real_catalog, detail):
    (hop,) = real_catalog.find_join_path(detail, "ER_PRS_F")
    assert (hop.left, hop.right) == (detail, "ER_PRS_F")
    assert set(hop.left_columns) == set(hop.right_columns) == FLUX_KEYS
    assert hop.left_columns == hop.right_columns


def test_decompte_joins_on_the_first_seven_keys(real_catalog):
    (hop,) = real_catalog.find_join_path("ER_DCT_F", "ER_PRS_F")
    assert set(hop.left_columns) == FLUX_KEYS - {"PRS_ORD_NUM", "REM_TYP_AFF"}
    assert "décompte" in hop.note


def test_pharmacy_to_beneficiary_goes_through_prestations(real_catalog):
    hops = real_catalog.find_join_path("ER_PHA_F", "IR_BEN_R")
    assert [(h.left, h.right) for h in hops] == [("ER_PHA_F", "ER_PRS_F"), ("ER_PRS_F", "IR_BEN_R")]
    assert set(hops[0].left_columns) == FLUX_KEYS
    assert hops[1].left_columns == ("BEN_NIR_PSA", "BEN_RNG_GEM")


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("T_MCO19D", "T_MCO19B", ("T_MCO19D", "T_MCO19B")),
        ("t_mco21a", "T_MCO21B", ("T_MCO21A", "T_MCO21B")),
        ("T_MCOaaD", "T_MCOaaB", ("T_MCOaaD", "T_MCOaaB")),
        ("T_MCO19B", "T_MCOaaC", ("T_MCO19B", "T_MCO19C")),
    ],
)
def test_pmsi_joins_on_stay_keys_and_keep_the_year(real_catalog, left, right, expected):
    (hop,) = real_catalog.find_join_path(left, right)
    assert (hop.left, hop.right) == expected
    assert hop.left_columns == hop.right_columns == ("ETA_NUM", "RSA_NUM")


def test_pmsi_stay_to_beneficiary_uses_the_pseudonym(real_catalog):
    hops = real_catalog.find_join_path("T_MCO19B", "IR_BEN_R")
    assert hops[-1].right == "IR_BEN_R"
    assert hops[-1].left_columns == ("NIR_ANO_17",)
    assert hops[-1].right_columns == ("BEN_NIR_PSA",)
    assert all(h.left.startswith("T_MCO19") for h in hops)


def test_tables_of_different_years_are_not_joined(real_catalog):
    with pytest.raises(SndskitError, match="different years"):
        real_catalog.find_join_path("T_MCO19D", "T_MCO20B")


def test_dcir_archive_names_are_kept_along_the_path(real_catalog):
    (hop,) = real_catalog.find_join_path("ER_PHA_F_2012", "ER_PRS_F")
    assert (hop.left, hop.right) == ("ER_PHA_F_2012", "ER_PRS_F_2012")


def test_unknown_table_suggests_close_names(real_catalog):
    with pytest.raises(UnknownNameError) as info:
        real_catalog.get_table("ER_PHA")
    assert "ER_PHA_F" in info.value.suggestions
    assert "did you mean" in str(info.value)


def test_product_filter_and_unknown_product(real_catalog):
    assert len(real_catalog.list_tables("dcir")) == 16
    with pytest.raises(SndskitError) as info:
        real_catalog.list_tables("DCRI")
    assert "PMSI MCO" in info.value.allowed


def test_schema_quirks_are_absorbed(real_catalog):
    stay = real_catalog.get_table("T_MCOaaB")
    conf = stay.field("SEJ_COD_CONF")
    assert conf.allows_empty and conf.enum == ("1", "2")
    # CIP13 typed integer by the schema is read as a string (leading digits kept).
    cip = real_catalog.get_table("ER_PHA_F").field("PHA_PRS_C13")
    assert (cip.type, cip.storage_type) == ("integer", "string")
    # ETA_NUM: integer in B, string in D — both read as strings so joins match.
    assert stay.field("ETA_NUM").type == "integer"
    assert real_catalog.get_table("T_MCOaaD").field("ETA_NUM").type == "string"
    assert stay.field("ETA_NUM").storage_type == "string"
    # Lower-case key columns (CT_IDE_AAAA_GN) resolve to the table's own spelling.
    ct = real_catalog.get_table("CT_IDE_2019_GN")
    fk = next(fk for fk in ct.foreign_keys if fk.reference_table == "IR_BEN_R")
    assert all(ct.field(c).name == c for c in fk.fields)


def test_nomenclature_links_point_to_known_reference_tables(real_catalog):
    linked = {
        f.nomenclature for t in real_catalog.tables.values() for f in t.fields if f.nomenclature
    }
    known = set(real_catalog.nomenclatures) | set(real_catalog.tables)
    assert linked <= known
    assert {"IR_CIM_V", "MS_CIM_V", "IR_NAT_V", "IR_DTE_V"} <= linked


@pytest.mark.parametrize(
    ("query", "table", "field"),
    [
        ("numero finess", "T_MCOaaB", "ETA_NUM"),  # no accents typed
        ("DIAGNOSTIC PRINCIPAL", "T_MCOaaB", "DGN_PAL"),
        ("diagnostc principal", "T_MCOaaB", "DGN_PAL"),  # one typo
        ("principal diagnostic", "T_MCOaaB", "DGN_PAL"),  # words in any order
        ("date de décès", "IR_BEN_R", "BEN_DCD_DTE"),  # stop-word 'de' ignored
        ("code cip 13", "ER_PHA_F", "PHA_PRS_C13"),
        ("diagnostic associé", "T_MCOaaD", "ASS_DGN"),
    ],
)
def test_search_finds_variables_in_french(real_catalog, query, table, field):
    hits = real_catalog.search_fields(query, limit=30)
    assert (table, field) in {(h.table, h.field) for h in hits}


def test_search_ranks_exact_variable_names_first(real_catalog):
    hits = real_catalog.search_fields("ben_nir_psa", limit=50)
    assert hits[0].field == "BEN_NIR_PSA" and hits[0].matched_on == "name"
    named = [h for h in hits if h.field == "BEN_NIR_PSA"]
    assert {h.table for h in named} >= {"IR_BEN_R", "ER_PRS_F"}
    assert hits.index(named[-1]) < len(named)  # all exact hits come before the others


def test_search_scores_are_sorted_and_explained(real_catalog):
    hits = real_catalog.search_fields("montant", limit=100)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(h.matched_on in {"name", "name prefix", "description"} for h in hits)


@pytest.mark.parametrize("query", ["", "   ", "de la", "!!"])
def test_search_without_words_is_a_clear_error(real_catalog, query):
    with pytest.raises(SndskitError, match="nothing to search for"):
        real_catalog.search_fields(query)


def test_nomenclature_values_match_an_independent_csv_count(real_home, real_catalog):
    csv_path = SCHEMA_ROOT.parent / "nomenclatures" / "ORAVAL" / "IR_ALD_V.csv"
    with csv_path.open(encoding="utf-8") as handle:
        expected = list(csv.reader(handle, delimiter=";"))
    info, columns, rows = get_nomenclature_values(
        "IR_ALD_V", catalog=real_catalog, path=store_path(real_home)
    )
    assert columns == expected[0]
    assert info.rows == len(rows) == len(expected) - 1 == 34  # primer §5: 34 ALD codes
    assert {r[0] for r in rows} == {r[0] for r in expected[1:]}


def test_nomenclature_without_public_values_says_so(real_home, real_catalog):
    with pytest.raises(SndskitError, match="not public"):
        get_nomenclature_values("IR_PHA_R", catalog=real_catalog, path=store_path(real_home))
    with pytest.raises(UnknownNameError) as info:
        real_catalog.get_nomenclature_info("IR_ALD")
    assert "IR_ALD_V" in info.value.suggestions
