"""search_concepts and the hierarchy on the store built from the shared reference data.

Expected codes come from domain facts (the primer, ATIH CIM-10) or from independent reads
of the source files — never from the search itself.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from sndskit.config import store_path
from sndskit.errors import SndskitError, UnknownNameError
from sndskit.terminology import get_ancestors, get_descendants, search_concepts
from sndskit.terminology.evaluation import evaluate_case, load_cases, summarise_results
from tests.conftest import NOMENCLATURE_ROOT

pytestmark = pytest.mark.shared_data
CASES = Path(__file__).resolve().parents[2] / "benchmarks" / "terminology_cases.yaml"
MATCH_KINDS = {"label", "synonym", "abbreviation", "code", "relation", "descendant", "partial"}


@pytest.fixture(scope="module")
def store(real_home):
    return store_path(real_home)


def codes(hits):
    return [h.code for h in hits]


def _cim10_codes() -> set[str]:
    out = set()
    for name in ("IR_CIM_V", "MS_CIM_V"):
        with (NOMENCLATURE_ROOT / "ORAVAL" / f"{name}.csv").open(encoding="utf-8") as handle:
            out |= {
                r["CIM_COD"] for r in csv.DictReader(handle, delimiter=";") if r["TEC_COL"] == "0"
            }
    return out


def test_avc_returns_the_stroke_families_first(store):
    hits = search_concepts("avc", vocabularies=["CIM10"], store=store)
    # primer / ATIH: AVC = I60-I64; equal scores, so the shortest (most general) label first
    assert sorted(codes(hits)[:5]) == ["I60", "I61", "I62", "I63", "I64"]
    assert {h.matched_by for h in hits[:5]} == {"abbreviation"}
    assert all(h.matched_by in MATCH_KINDS for h in hits)


@pytest.mark.parametrize(
    ("query", "expected", "within"),
    [
        ("diabète de type 2", "E11", 3),
        ("DIABETE TYPE 2", "E11", 3),  # case and accents
        ("type 2 diabète", "E11", 3),  # word order
        ("infarctis du myocarde", "I21", 5),  # one typo
        ("insuffisance cardiaque", "I50", 3),
        ("myocardial infarction", "I21", 5),  # WHO English label
    ],
)
def test_text_queries_find_the_family(store, query, expected, within):
    assert expected in codes(search_concepts(query, vocabularies=["CIM10"], store=store))[:within]


def test_inflections_share_a_stem(store):
    singular = set(codes(search_concepts("diabète", vocabularies=["CIM10"], limit=50, store=store)))
    adjective = codes(search_concepts("diabétiques", vocabularies=["CIM10"], limit=50, store=store))
    assert {"E10", "E11", "E14"} & set(adjective)
    assert len(singular & set(adjective)) >= 10


def test_prefix_pattern_returns_exactly_the_codes_of_the_files(store):
    hits = search_concepts("E11*", vocabularies=["CIM10"], limit=5000, store=store)
    assert set(codes(hits)) == {c for c in _cim10_codes() if c.startswith("E11")}
    assert hits[0].code == "E11" and {h.matched_by for h in hits} == {"code"}


def test_range_and_regex_patterns(store):
    ranged = search_concepts("E10-E14", vocabularies=["CIM10"], limit=5000, store=store)
    expected = {c for c in _cim10_codes() if "E10" <= c[:3] <= "E14"}
    assert set(codes(ranged)) - {"E10-E14"} == expected
    regex = search_concepts("re:^I2[0-5]$", vocabularies=["CIM10"], store=store)
    assert codes(regex) == ["I20", "I21", "I22", "I23", "I24", "I25"]


@pytest.mark.parametrize("hostile", ["E11'; DROP TABLE concepts; --*", "E11%' OR '1'='1"])
def test_hostile_patterns_stay_literal(store, hostile):
    try:
        hits = search_concepts(hostile, store=store)
    except SndskitError:
        hits = []
    assert all(h.matched_by in MATCH_KINDS for h in hits)  # read as words, never as SQL
    assert search_concepts("E11", vocabularies=["CIM10"], store=store)[0].code == "E11"


def test_plain_code_with_or_without_dot(store):
    assert search_concepts("I21.4", store=store)[0].code == "I214"
    assert search_concepts("i214", store=store)[0].code == "I214"


def test_level_and_validity_filters(store):
    level3 = search_concepts("diabète", vocabularies=["CIM10"], levels=[3], store=store)
    assert level3 and all(h.level == 3 for h in level3)
    # G14 was created on 2011-01-01 (MS_CIM_V "Création catégorie").
    assert "G14" in codes(search_concepts("G14", vocabularies=["CIM10"], store=store))
    before = search_concepts("G14", vocabularies=["CIM10"], valid_at=date(2010, 6, 1), store=store)
    assert "G14" not in codes(before)


def test_drug_boxes_are_found_by_substance(store):
    hits = search_concepts("metformine", vocabularies=["CIP13"], limit=50, store=store)
    assert len(hits) == 50
    assert all(len(h.code) == 13 and h.code.startswith("3400") for h in hits)  # primer §5
    assert all("METFORMINE" in h.label.upper() or h.matched_by == "relation" for h in hits)


def test_curated_abbreviation_brings_the_codes_below_its_families(store):
    hits = search_concepts("cancer du sein", vocabularies=["CIM10"], store=store)
    assert hits[0].code == "C50"
    below = [h for h in hits if h.matched_by == "descendant"]
    assert below and all(h.code.startswith("C50") for h in below)


@pytest.mark.parametrize("query", ["", "   ", "de la", "?!"])
def test_queries_without_content_are_clear_errors(store, query):
    with pytest.raises(SndskitError):
        search_concepts(query, store=store)


def test_unknown_vocabulary_lists_the_valid_ones(store):
    with pytest.raises(SndskitError) as info:
        search_concepts("avc", vocabularies=["CIM11"], store=store)
    assert "CIM10" in info.value.allowed and "CCAM" in info.value.allowed


def test_descendants_and_ancestors(store):
    below = codes(get_descendants("CIM10", "E11", store=store))
    assert set(below) == {c for c in _cim10_codes() if c.startswith("E11") and c != "E11"}
    assert codes(get_ancestors("CIM10", "E11.9", store=store)) == ["E11", "E10-E14", "IV"]
    with pytest.raises(UnknownNameError) as info:
        get_descendants("CIM10", "E1X", store=store)
    assert "E10" in info.value.suggestions


def test_search_quality_stays_above_its_floor(store):
    """Regression floor on the hand-written cases (measured values are in BENCHMARKS.md)."""
    results = [evaluate_case(case, store=store) for case in load_cases(CASES)]
    summary = summarise_results(results)
    assert summary["all"]["cases"] >= 40
    assert summary["all"]["recall"] >= 0.95
    assert summary["all"]["mrr"] >= 0.75
    assert summary["diagnosis"]["recall"] >= 0.95
    assert summary["drug"]["recall"] >= 0.90
    assert summary["abbreviation"]["recall"] >= 0.95
    assert summary["procedure"]["mrr"] >= 0.8  # issue #19: was 0.549


def _cli(home, *args):
    env = {**os.environ, "SNDSKIT_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "sndskit", *args], capture_output=True,
                          text=True, env=env)  # fmt: skip


def test_cli_search_show_and_vocabularies_json(real_home):
    hits = json.loads(
        _cli(real_home, "codes", "search", "avc", "--vocab", "CIM10", "--json").stdout
    )
    assert {"vocabulary", "code", "label", "score", "matched_by"} <= set(hits[0])
    shown = json.loads(
        _cli(
            real_home, "codes", "show", "E11", "--vocab", "cim10", "--descendants", "--json"
        ).stdout
    )
    assert shown["code"] == "E11" and shown["ancestors"][0]["code"] == "E10-E14"
    assert {"relation": "CIM10_IN_ALD", "code": "8"}.items() <= shown["relations"][0].items()
    assert all(d["code"].startswith("E11") for d in shown["descendants"])
    summary = {
        v["vocabulary"]: v
        for v in json.loads(_cli(real_home, "codes", "vocabularies", "--json").stdout)
    }
    assert summary["CIM10"]["concepts"] > 18000
    assert "atc_link" in summary["CIP13"]
    bad = _cli(real_home, "codes", "search", "avc", "--vocab", "FOO")
    assert bad.returncode == 2 and "CIM10" in bad.stderr


def test_cmd_descendants_cross_into_ghm(store):
    import gzip

    from tests.conftest import SHARED_DATA

    with gzip.open(SHARED_DATA / "nomensland" / "ghm_ghm_regroupement.json.gz", "rt") as handle:
        ghms = {row["ghm"] for row in json.load(handle) if row["ghm"].startswith("05")}
    below = get_descendants("CMD", "05", store=store)
    assert {h.vocabulary for h in below} == {"GHM"}
    assert ghms <= set(codes(below))  # every GHM of CMD 05 (primer: CMD = first 2 chars)
    assert all(h.code.startswith("05") for h in below)
