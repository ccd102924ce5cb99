"""Helpers shared by the drug tests (independent reads of the raw BDPM files)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from sndskit.terminology.model import TerminologyBatch

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
BDPM_DIR = SHARED_DATA / "bdpm"
ORAREF = SHARED_DATA / "schema-snds" / "nomenclatures" / "ORAREF"
INFERRED_RELATIONS = {"CIS_HAS_ATC", "CIP13_HAS_ATC", "SUBSTANCE_HAS_ATC", "UCD_HAS_SUBSTANCE"}

shared = pytest.mark.skipif(not BDPM_DIR.is_dir(), reason=f"no BDPM files in {BDPM_DIR}")


def codes(batch: TerminologyBatch, vocabulary: str) -> dict[str, object]:
    return {c.code: c for c in batch.concepts if c.vocabulary == vocabulary}


def links(batch: TerminologyBatch, relation: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for r in batch.relations:
        if r.relation == relation:
            found[r.code_1].add(r.code_2)
    return found


def raw_fields(name: str) -> list[list[bytes]]:
    """Fields of a BDPM file split with bytes only (no decoding, no loader code)."""
    lines = (BDPM_DIR / name).read_bytes().split(b"\n")
    return [line.rstrip(b"\r").split(b"\t") for line in lines if line.strip()]
