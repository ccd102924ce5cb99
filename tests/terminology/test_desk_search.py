"""Issue #19 item 14: what a desk pharmacist types finds what they mean, and an empty
result always says why (expected codes from the curated CSV, BDPM files and the schema)."""

from __future__ import annotations

import csv
import json
from importlib import resources

import pytest

from sndskit.catalog.empty import explain_empty_field_search
from sndskit.catalog.synonyms import field_synonyms
from sndskit.config import store_path
from sndskit.terminology import search_concepts
from sndskit.terminology.empty import explain_empty_search
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def store(real_home):
    return store_path(real_home)


def _expansions() -> list[tuple[str, str, str]]:
    """(abbreviation, its full French name, vocabulary) from the curated CSV's own notes."""
    path = resources.files("sndskit") / "resources" / "terminology" / "abbreviations_fr.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for row in rows:
        note = row["note"]
        if row["kind"] == "lay_term" and note.startswith("Full French name of "):
            abbreviation = note.removeprefix("Full French name of ").split(":")[0].split(";")[0]
            out.append((abbreviation.strip(), row["term"], row["vocabulary"]))
    return out


def test_there_are_phrases_for_the_common_abbreviations():
    pairs = {a for a, _, _ in _expansions()}
    assert {"AVC", "ETT", "AOD", "IPP", "BPCO"} <= pairs


@pytest.mark.parametrize(("abbreviation", "phrase", "vocabulary"), _expansions())
def test_a_phrase_returns_the_family_of_its_abbreviation(store, abbreviation, phrase, vocabulary):
    by_abbreviation = search_concepts(abbreviation, vocabularies=[vocabulary], store=store)
    family = {h.code for h in by_abbreviation if h.matched_by == "abbreviation"}
    assert family, abbreviation
    by_phrase = [h.code for h in search_concepts(phrase, vocabularies=[vocabulary], store=store)]
    assert family <= set(by_phrase), (phrase, family - set(by_phrase))


def test_stroke_phrase_returns_infarction_and_haemorrhage(store):
    """The issue's trap: the full phrase found only I64 (its label) while "avc" found I60-I64."""
    top = [
        h.code
        for h in search_concepts(
            "accident vasculaire cérébral", vocabularies=["CIM10"], limit=10, store=store
        )
    ]
    assert {"I61", "I63", "I64"} <= set(top)


def _boxes_of(substance: str) -> set[str]:
    """Independent read of BDPM: CIP13 of the products holding ``substance`` (SA rows)."""
    bdpm = SHARED_DATA / "bdpm"
    with (bdpm / "CIS_COMPO_bdpm.txt").open(encoding="cp1252") as handle:
        products = {
            cols[0]
            for cols in (line.split("\t") for line in handle)
            if substance in cols[3].upper() and cols[6] == "SA"
        }
    with (bdpm / "CIS_CIP_bdpm.txt").open(encoding="cp1252") as handle:
        return {
            cols[6]
            for cols in (line.rstrip("\r\n").split("\t") for line in handle)
            if cols[0] in products
        }


def test_boxes_are_reachable_by_substance_name_within_cip13(store):
    expected = _boxes_of("APIXABAN")
    assert expected  # ELIQUIS and generics exist in the 2022 BDPM extract
    hits = search_concepts("apixaban", vocabularies=["CIP13"], limit=200, store=store)
    assert {h.code for h in hits} == expected
    assert all(h.matched_by == "relation" and "SUBSTANCE" in h.matched_text for h in hits)


@pytest.mark.parametrize(
    ("query", "table", "field"),
    [
        ("ATC", "ER_PHA_F", "PHA_PRS_C13"),
        ("date de délivrance", "ER_PRS_F", "EXE_SOI_DTD"),
        ("motif médical ALD", "IR_IMB_R", "MED_MTF_COD"),
        ("ALD", "IR_IMB_R", "MED_MTF_COD"),
        ("délivrance", "ER_PRS_F", "EXE_SOI_DTD"),
    ],
)
def test_catalogue_desk_words_find_the_variable_first(real_catalog, query, table, field):
    first = real_catalog.search_fields(query)[0]
    assert (first.table, first.field) == (table, field)
    assert first.matched_on.startswith("synonym")


def test_every_catalogue_synonym_names_a_real_variable_and_a_source(real_catalog):
    for synonym in field_synonyms():
        names = {f.name for f in real_catalog.get_table(synonym.table).fields}
        assert synonym.field in names, synonym
        assert synonym.source and synonym.note, synonym


@pytest.mark.parametrize(
    ("query", "kwargs", "reason", "needle"),
    [
        ("zorglubine", {}, "unknown_words", "zorglubine"),
        ("metformine", {"vocabularies": ["CCAM"]}, "other_vocabularies", "--vocab"),
        ("Z99Z*", {"vocabularies": ["CIM10"]}, "no_code", "Z99Z*"),
        ("diabète", {"vocabularies": ["CIM10"], "levels": [9]}, "filters", "--level"),
    ],
)
def test_an_empty_search_says_why_in_both_languages(store, query, kwargs, reason, needle):
    assert not search_concepts(query, store=store, **kwargs)  # the trap: nothing found
    why = explain_empty_search(query, store=store, **kwargs)
    assert why.reason == reason
    assert needle in why.render()
    assert why.message_fr != why.message_en and why.suggestion_fr and why.suggestion_en


def test_an_empty_catalogue_search_says_why(real_catalog):
    assert not real_catalog.search_fields("zorglub")
    assert explain_empty_field_search(real_catalog, "zorglub").reason == "unknown_words"
    assert not real_catalog.search_fields("date décès", product="PMSI MCO")
    why = explain_empty_field_search(real_catalog, "date décès", product="PMSI MCO")
    assert why.reason == "filters" and "--product" in why.suggestion_en


def test_cli_empty_results_say_why_in_french_and_english(real_home, monkeypatch):
    from typer.testing import CliRunner

    from sndskit.cli import app

    monkeypatch.setenv("SNDSKIT_HOME", str(real_home))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    codes = runner.invoke(app, ["codes", "search", "metformine", "--vocab", "CCAM"])
    assert codes.exit_code == 0, codes.output
    assert "rien dans CCAM" in codes.stdout and "nothing in CCAM" in codes.stdout
    as_json = runner.invoke(app, ["codes", "search", "metformine", "--vocab", "CCAM", "--json"])
    assert as_json.stdout.strip() == "[]" and "--vocab" in as_json.stderr
    fields = runner.invoke(app, ["catalog", "search", "zorglub"])
    assert "aucune variable" in fields.stdout and "no variable" in fields.stdout
    boxes = runner.invoke(app, ["codes", "search", "apixaban", "--vocab", "CIP13", "--json"])
    assert {h["vocabulary"] for h in json.loads(boxes.stdout)} == {"CIP13"}
