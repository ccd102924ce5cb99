"""Issue #19 items 7 and 10: Athena's official concepts are reused (never duplicated), runs
are incremental per vocabulary, and the ATLAS export carries concept ids.

The "official" concepts planted below stand for an Athena download's CIM10 and ATC rows:
their ids (9000000xx) are test values below 2e9, written here, not produced by sndskit.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from sndskit.codelists.export import atlas_coverage, export_codelist, import_codelist
from sndskit.codelists.model import CodeEntry, Codelist, Provenance
from sndskit.omop.source_concepts import (
    ID_BASE,
    build_source_concepts,
    find_omop_concepts,
    install_source_concepts,
    official_vocabularies,
    source_concept_ids_all,
)

OFFICIAL = [  # concept_id, name, vocabulary, class, code (dotted, as Athena writes CIM10)
    (900000001, "Atrial fibrillation and flutter", "CIM10", "ICD10 Hierarchy", "I48"),
    (900000002, "Paroxysmal atrial fibrillation", "CIM10", "ICD10 code", "I48.0"),
    (900000003, "apixaban", "ATC", "ATC 5th", "B01AF02"),
]


def _count(db, sql, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchone()[0]
    finally:
        con.close()


@pytest.fixture()
def athena_db(vocab_db, tmp_path):
    """The shared vocabulary extract plus planted official CIM10 and ATC concepts."""
    db = tmp_path / "athena.duckdb"
    db.write_bytes(vocab_db.read_bytes())
    con = duckdb.connect(str(db))
    for concept_id, name, vocabulary, klass, code in OFFICIAL:
        con.execute(
            "INSERT INTO concept VALUES (?, ?, 'Condition', ?, ?, NULL, ?, DATE '1970-01-01', "
            "DATE '2099-12-31', NULL)",
            [concept_id, name, vocabulary, klass, code],
        )
    con.close()
    return db


def test_official_vocabularies_are_detected(athena_db, vocab_db):
    with duckdb.connect(str(athena_db), read_only=True) as con:
        assert official_vocabularies(con) == ["ATC", "CIM10"]
    with duckdb.connect(str(vocab_db), read_only=True) as con:
        assert official_vocabularies(con) == []


def test_no_second_atc_concept_when_athena_has_it(athena_db, real_store):
    """The issue's trap: two concepts for ATC B01AF02 after `omop source-concepts`."""
    atc_b01af02 = "SELECT count(*) FROM concept WHERE vocabulary_id = 'ATC' AND concept_code = ?"
    old_run = build_source_concepts(store=real_store, vocabularies=["ATC"])  # before the fix
    install_source_concepts(athena_db, old_run)
    assert _count(athena_db, atc_b01af02, ["B01AF02"]) == 2
    with duckdb.connect(str(athena_db), read_only=True) as con:
        official = official_vocabularies(con)
    built = build_source_concepts(
        store=real_store, vocabularies=["ATC", "CIM10", "SPE"], official=official
    )
    assert built.reused == ["ATC", "CIM10"] and built.vocabularies == ["SPE"]
    assert set(built.concept["vocabulary_id"].to_pylist()) == {"SPE", "Vocabulary"}
    install_source_concepts(athena_db, built)
    assert _count(athena_db, atc_b01af02, ["B01AF02"]) == 1  # Athena's only
    local_atc = (
        f"SELECT count(*) FROM concept WHERE vocabulary_id = 'ATC' AND concept_id > {ID_BASE}"
    )
    assert _count(athena_db, local_atc) == 0
    assert _count(athena_db, "SELECT count(*) FROM vocabulary WHERE vocabulary_id = 'ATC'") == 0


def test_a_run_for_one_vocabulary_keeps_the_others(vocab_db, real_store, tmp_path):
    """The issue's trap: a run for one vocabulary removed every other local concept."""
    db = tmp_path / "v.duckdb"
    db.write_bytes(vocab_db.read_bytes())
    nabm = build_source_concepts(store=real_store, vocabularies=["NABM"])
    install_source_concepts(db, nabm)
    local = f"SELECT count(*) FROM concept WHERE concept_id > {ID_BASE} AND vocabulary_id = ?"
    assert _count(db, local, ["NABM"]) == nabm.concept.num_rows - 1  # minus its Vocabulary row
    spe = build_source_concepts(store=real_store, vocabularies=["SPE"], registry=nabm.registry)
    install_source_concepts(db, spe)
    install_source_concepts(db, spe)  # a rerun replaces, never duplicates
    assert _count(db, local, ["NABM"]) == nabm.concept.num_rows - 1
    assert _count(db, local, ["SPE"]) == spe.concept.num_rows - 1
    assert _count(db, local, ["Vocabulary"]) == 2
    synonyms = (
        "SELECT count(*) FROM concept_synonym s JOIN concept c USING (concept_id) "
        "WHERE c.vocabulary_id = 'NABM'"
    )
    assert _count(db, synonyms) == sum(
        1 for i in nabm.concept_synonym["concept_id"].to_pylist() if i in set(nabm.ids().values())
    )


WHY = Provenance(rule="r", via="code")


def _codelist() -> Codelist:
    entries = [
        CodeEntry(vocabulary="CIM10", code="I48", label="Fibrillation", found_from=[WHY]),
        CodeEntry(vocabulary="CIM10", code="I480", label="FA paroxystique", found_from=[WHY]),
        CodeEntry(vocabulary="CIM10", code="I481", label="FA persistante", found_from=[WHY]),
        CodeEntry(vocabulary="SPE", code="1", label="Médecine générale", found_from=[WHY]),
    ]
    return Codelist(name="fa", description="x", built_at="2026-01-01", entries=entries)


def test_atlas_export_carries_official_and_local_ids_and_names_the_missing(
    athena_db, real_store, tmp_path
):
    with duckdb.connect(str(athena_db), read_only=True) as con:
        official = official_vocabularies(con)
    built = build_source_concepts(store=real_store, vocabularies=["SPE"], official=official)
    install_source_concepts(athena_db, built)
    codelist = _codelist()
    with duckdb.connect(str(athena_db), read_only=True) as con:
        concepts = find_omop_concepts(con, [e.key for e in codelist.entries])
    items = json.loads(export_codelist(codelist, "atlas", concepts=concepts))["items"]
    ids = {i["concept"]["CONCEPT_CODE"]: i["concept"]["CONCEPT_ID"] for i in items}
    spe_id = built.ids()[("SPE", "1")]
    assert ids == {"I48": 900000001, "I48.0": 900000002, "1": spe_id}  # I481: none
    assert spe_id > ID_BASE
    by_code = {i["concept"]["CONCEPT_CODE"]: i["concept"] for i in items}
    assert (by_code["1"]["DOMAIN_ID"], by_code["I48.0"]["CONCEPT_CLASS_ID"]) == (
        "Provider",
        "ICD10 code",
    )
    with duckdb.connect(str(athena_db), read_only=True) as con:
        ids_for_mappings = source_concept_ids_all(con)  # CONCEPT_RELATIONSHIP export
    assert ids_for_mappings[("CIM10", "I480")] == 900000002
    assert ids_for_mappings[("ATC", "B01AF02")] == 900000003
    assert ids_for_mappings[("SPE", "1")] == spe_id
    coverage = atlas_coverage(codelist, concepts)
    assert coverage == {
        "official": ["CIM10 I48", "CIM10 I480"],
        "local": ["SPE 1"],
        "missing": ["CIM10 I481"],
    }
    path = tmp_path / "set.json"
    path.write_text(export_codelist(codelist, "atlas", concepts=concepts), encoding="utf-8")
    back = import_codelist(path, store=real_store)
    assert [e.key for e in back.entries] == [("CIM10", "I48"), ("CIM10", "I480"), ("SPE", "1")]


def test_atlas_cli_says_which_codes_have_no_concept(athena_db, real_home, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from sndskit.cli import app
    from sndskit.codelists.model import save_codelist

    monkeypatch.setenv("SNDSKIT_HOME", str(real_home))
    path = save_codelist(_codelist(), tmp_path / "fa.json")
    result = CliRunner().invoke(
        app, ["codelist", "export", str(path), "--format", "atlas", "--vocab-db", str(athena_db)]
    )
    assert result.exit_code == 0, result.output
    assert "CIM10 I481" in result.stderr and "2 official" in result.stderr
    assert json.loads(result.stdout)["items"][0]["concept"]["CONCEPT_ID"] == 900000001


def test_source_concepts_cli_reuses_athena_and_keeps_other_vocabularies(
    athena_db, real_home, tmp_path, monkeypatch
):
    from typer.testing import CliRunner

    from sndskit.cli import app

    monkeypatch.setenv("SNDSKIT_HOME", str(real_home))
    registry = tmp_path / "ids.csv"
    runner = CliRunner()
    base = ["omop", "source-concepts", "--db", str(athena_db), "--registry", str(registry)]
    first = runner.invoke(app, [*base, "--vocab", "ATC,SPE"])
    assert first.exit_code == 0, first.output
    assert "ATC: concepts officiels Athena réutilisés" in first.stdout
    second = runner.invoke(app, [*base, "--vocab", "ALD"])
    assert second.exit_code == 0, second.output
    local = f"SELECT count(*) FROM concept WHERE concept_id > {ID_BASE} AND vocabulary_id = ?"
    assert _count(athena_db, local, ["SPE"]) > 0  # kept by the ALD-only run
    assert _count(athena_db, local, ["ALD"]) > 0
    assert _count(athena_db, local, ["ATC"]) == 0
