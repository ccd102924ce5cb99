"""Fixtures of the OMOP tests: the shared vocabulary extract loaded once, the test mapping set.

The mapping set's provenance is in ``tests/omop/data/README.md``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sndskit.config import store_path
from sndskit.omop import read_mappings
from sndskit.omop.vocabulary import load_vocabulary

DATA = Path(__file__).parent / "data"
MAPPINGS_FILE = DATA / "test_mappings.usagi.csv"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
VOCAB_SAMPLE = SHARED / "omop" / "vocab-sample"


def sample_rows(name: str) -> list[dict]:
    """Rows of a file of the extract, read with the csv module (independent of DuckDB)."""
    with (VOCAB_SAMPLE / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def vocab_db(tmp_path_factory) -> Path:
    if not VOCAB_SAMPLE.is_dir():
        pytest.skip(f"OMOP vocabulary extract not found at {VOCAB_SAMPLE}")
    db = tmp_path_factory.mktemp("omop") / "vocabulary.duckdb"
    load_vocabulary(VOCAB_SAMPLE, db)
    return db


@pytest.fixture(scope="session")
def real_store(real_home) -> Path:
    return store_path(real_home)


@pytest.fixture()
def test_mappings():
    return read_mappings(MAPPINGS_FILE)


@pytest.fixture()
def mapping_rows() -> list[dict]:
    with MAPPINGS_FILE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def ancestors_from_csv() -> dict[int, set[int]]:
    """Transitive 'Is a' / 'Subsumes' closure computed in Python from the extract's CSV."""
    parents: dict[int, set[int]] = {}
    for row in sample_rows("CONCEPT_RELATIONSHIP.csv"):
        if row["invalid_reason"]:
            continue
        a, b = int(row["concept_id_1"]), int(row["concept_id_2"])
        if a == b:
            continue
        if row["relationship_id"] == "Is a":
            parents.setdefault(a, set()).add(b)
        elif row["relationship_id"] == "Subsumes":
            parents.setdefault(b, set()).add(a)
    closure: dict[int, set[int]] = {}

    def up(node: int) -> set[int]:
        seen, stack = set(), [node]
        while stack:
            for parent in parents.get(stack.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen

    for node in parents:
        closure[node] = up(node)
    return closure
