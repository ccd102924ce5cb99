"""SNDS source concepts: ids above 2e9, stable across rebuilds, collision-free, Athena export."""

from __future__ import annotations

import random

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from sndskit.omop.source_concepts import (
    ID_BASE,
    ID_MAX,
    assign_ids,
    build_source_concepts,
    candidate_id,
    export_athena,
    install_source_concepts,
    read_registry,
    write_registry,
)
from sndskit.omop.vocabulary import load_vocabulary, source_concept_ids

VOCABS = ["CIM10", "CCAM"]


def test_ids_above_2e9_unique_and_stable_across_two_rebuilds(real_store):
    first = build_source_concepts(store=real_store, vocabularies=VOCABS)
    second = build_source_concepts(store=real_store, vocabularies=VOCABS)
    ids = first.ids()
    assert ids == second.ids()
    values = first.concept["concept_id"].to_pylist()
    assert len(values) == len(set(values))
    assert all(ID_BASE < i <= ID_MAX for i in values)
    assert {v for v, _ in ids} == set(VOCABS)
    # With the registry of the first build, the second issues no new id.
    third = build_source_concepts(store=real_store, vocabularies=VOCABS, registry=first.registry)
    assert third.new_ids == 0 and third.ids() == ids


def test_source_concepts_are_non_standard_with_french_names(real_store):
    built = build_source_concepts(store=real_store, vocabularies=["CIM10"])
    rows = {r["concept_code"]: r for r in built.concept.to_pylist()}
    e11 = rows["E11"]
    assert e11["concept_name"] == "Diabète sucré de type 2"
    assert (e11["standard_concept"], e11["domain_id"], e11["vocabulary_id"]) == (
        None,
        "Condition",
        "CIM10",
    )
    synonyms = built.concept_synonym.to_pylist()
    english = [
        s
        for s in synonyms
        if s["concept_id"] == e11["concept_id"] and s["language_concept_id"] == 4180186
    ]
    assert [s["concept_synonym_name"] for s in english] == ["Type 2 diabetes mellitus"]
    vocabulary = built.vocabulary.to_pylist()[0]
    assert vocabulary["vocabulary_id"] == "CIM10" and vocabulary["vocabulary_concept_id"] > ID_BASE


def test_new_codes_never_move_existing_ids():
    old = assign_ids([("CIM10", f"C{i}") for i in range(30)], space=60)
    new = assign_ids([("CIM10", f"C{i}") for i in range(55)], old, space=60)
    assert all(new[k] == v for k, v in old.items())
    assert len(set(new.values())) == 55


@settings(max_examples=60, deadline=None)
@given(st.sets(st.text(min_size=1, max_size=6), min_size=1, max_size=40), st.integers(0, 10**6))
def test_ids_do_not_depend_on_row_order_and_never_collide(codes, seed):
    keys = [("CCAM", c) for c in codes]
    shuffled = keys[:]
    random.Random(seed).shuffle(shuffled)
    space = 50  # a tiny id space forces collisions and probing
    first, second = assign_ids(keys, space=space), assign_ids(shuffled, space=space)
    assert first == second
    assert len(set(first.values())) == len(keys)
    assert all(ID_BASE < i <= ID_BASE + space for i in first.values())


def test_candidate_is_a_pure_function():
    assert candidate_id("CIM10", "E11") == candidate_id("CIM10", "E11")
    assert candidate_id("CIM10", "E11") != candidate_id("CCAM", "E11")


def test_registry_round_trip(tmp_path):
    registry = assign_ids([("CIM10", "E11"), ("CCAM", "HMFC004")])
    write_registry(tmp_path / "ids.csv", registry)
    assert read_registry(tmp_path / "ids.csv") == registry


def test_athena_export_loads_back_and_installs(real_store, vocab_db, tmp_path):
    built = build_source_concepts(store=real_store, vocabularies=["CCAM"])
    export_athena(built, tmp_path / "athena")
    result = load_vocabulary(tmp_path / "athena", tmp_path / "local.duckdb")
    assert result.rows("concept") == built.concept.num_rows
    assert result.rows("concept_synonym") == built.concept_synonym.num_rows
    copy = tmp_path / "vocab.duckdb"
    copy.write_bytes(vocab_db.read_bytes())
    install_source_concepts(copy, built)
    install_source_concepts(copy, built)  # replaces, does not duplicate
    con = duckdb.connect(str(copy), read_only=True)
    assert source_concept_ids(con) == built.ids()
    con.close()
