"""Alignment quality on the test mapping set, expectations computed independently (csv module,
Python closure over the extract) or planted on purpose (tests/omop/data/README.md)."""

from __future__ import annotations

import csv
import json
from collections import Counter

import duckdb
import pytest

from sndskit.omop import MappingStatus, assess_quality, read_review, write_report
from sndskit.omop.vocabulary import connect_vocabulary

from .conftest import ancestors_from_csv

# Synthetic record counts written for this test (not real SNDS volumes).
USAGE = {
    ("CIM10", "E11"): 500,
    ("CIM10", "F32"): 300,
    ("CIM10", "E119"): 1000,
    ("CIM10", "J06"): 77,
    ("CCAM", "HMFC004"): 40,
    ("CCAM", "YYYY600"): 60,
}


@pytest.fixture()
def report(test_mappings, vocab_db, real_store):
    previous = [m for m in test_mappings if m.source_code not in ("E11", "HMFC004")]
    previous = [
        m.model_copy(update={"target_concept_id": 4229440})
        if m.source_code == "I50"
        else m.model_copy(update={"status": MappingStatus.UNCHECKED})
        if m.source_code == "C18"
        else m
        for m in previous
    ]
    con = connect_vocabulary(vocab_db)
    yield assess_quality(
        test_mappings, vocab=con, store=real_store, usage=USAGE, previous=previous, sample_size=30
    )
    con.close()


def _usable(row: dict) -> bool:
    return (
        int(row["conceptId"]) > 0
        and row["equivalence"] != "UNMATCHED"
        and row["mappingStatus"] not in ("FLAGGED", "INVALID_TARGET")
    )


def test_coverage_of_codes_and_records(report, mapping_rows):
    rows = [r for r in mapping_rows if r["ADD_INFO:sourceVocabulary"] == "CIM10"]
    codes = {r["sourceCode"] for r in rows} | {"J06"}
    mapped = {r["sourceCode"] for r in rows if _usable(r)}
    approved = {r["sourceCode"] for r in rows if _usable(r) and r["mappingStatus"] == "APPROVED"}
    cim10 = next(r for r in report["coverage"] if r["vocabulary"] == "CIM10")
    assert (cim10["codes"], cim10["codes_mapped"], cim10["codes_approved"]) == (
        len(codes),
        len(mapped),
        len(approved),
    )
    assert cim10["records_total"] == 500 + 300 + 1000 + 77
    assert cim10["share_records_mapped"] == pytest.approx((500 + 1000) / 1877)
    assert cim10["codes_in_vocabulary"] > 15_000
    top = [(r["vocabulary"], r["code"]) for r in report["top_unmapped"]]
    assert top == [("CCAM", "YYYY600"), ("CIM10", "F32"), ("CIM10", "J06")]  # per vocabulary


def test_planted_target_problems(report):
    examples = report["targets"]["examples"]
    assert [(r["code"], r["target_concept_id"]) for r in examples["unknown"]] == [
        ("E66", 999999999)
    ]
    assert [r["code"] for r in examples["non_standard"]] == ["R73"]
    assert [(r["code"], r["invalid_reason"]) for r in examples["deprecated"]] == [("R73", "U")]
    cim10 = next(d for d in report["domains"] if d["vocabulary"] == "CIM10")
    assert [(e["code"], e["domain"]) for e in cim10["examples"]] == [("I10", "Drug")]


def test_cardinality(report):
    card = report["cardinality"]
    assert card["examples"]["one_to_many"] == [{"code": "CIM10 E112", "targets": [192279, 201826]}]
    fan_in = {e["target_concept_id"]: e["sources"] for e in card["examples"]["many_to_one"]}
    assert fan_in[201826] == ["CIM10 E11", "CIM10 E112", "CIM10 E119"]
    assert fan_in[4198190] == ["CCAM HHFA001", "CCAM HHFA016"]


def test_hierarchy_consistency_matches_an_independent_closure(report, test_mappings, real_store):
    closure = ancestors_from_csv()
    con = duckdb.connect(str(real_store), read_only=True)
    parents = {
        (v, c): p
        for v, c, p in con.execute(
            "SELECT vocabulary, code, parent FROM concepts WHERE vocabulary IN ('CIM10', 'CCAM')"
        ).fetchall()
        if p
    }
    con.close()
    targets: dict = {}
    for m in test_mappings:
        if m.is_mapped:
            targets.setdefault(m.source, set()).add(m.target_concept_id)
    expected = set()
    for key, mine in targets.items():
        node = parents.get(key)
        while node and (key[0], node) not in targets:
            node = parents.get((key[0], node))
        if node:
            theirs = targets[(key[0], node)]
            if not any(t in theirs or theirs & closure.get(t, set()) for t in mine):
                expected.add(f"{key[0]} {key[1]}")
    found = {e["code"] for e in report["hierarchy"]["examples"]}
    assert found == expected == {"CIM10 E113", "CIM10 E117"}
    # HMFC004 → Laparoscopic cholecystectomy is below 07.04.10 → Cholecystectomy: consistent.
    assert report["hierarchy"]["checked"] >= 5


def test_distributions(report, mapping_rows):
    for vocabulary in ("CIM10", "CCAM"):
        rows = [r for r in mapping_rows if r["ADD_INFO:sourceVocabulary"] == vocabulary]
        assert report["status"][vocabulary] == dict(Counter(r["mappingStatus"] for r in rows))
        assert report["equivalence"][vocabulary] == dict(Counter(r["equivalence"] for r in rows))


def test_drift_against_the_previous_version(report):
    drift = report["drift"]
    assert drift["examples"]["added"] == ["CCAM HMFC004", "CIM10 E11"]
    assert drift["examples"]["retargeted"] == ["CIM10 I50"]
    assert drift["status_changes"] == {"UNCHECKED→APPROVED": 1}
    assert drift["removed"] == 0


def test_report_files_and_review_round(report, tmp_path):
    paths = write_report(report, tmp_path)
    names = sorted(p.name for p in paths)
    assert names == ["quality.html", "quality.json", "quality.md", "review_sample.csv"]
    data = json.loads((tmp_path / "quality.json").read_text(encoding="utf-8"))
    assert data["drift"]["retargeted"] == 1 and "_sample_rows" not in data
    page = (tmp_path / "quality.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") >= 4
    assert "src='http" not in page and "<script" not in page  # self-contained
    assert "CIM10:" in (tmp_path / "quality.md").read_text(encoding="utf-8")
    # Two reviewers fill the sample: reviewer 1 says CORRECT for approved rows, reviewer 2
    # agrees except on every third row.
    with (tmp_path / "review_sample.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == report["review_sample"]["size"]
    for i, row in enumerate(rows):
        row["verdict_1"] = "CORRECT" if row["status"] == "APPROVED" else "INCORRECT"
        row["verdict_2"] = row["verdict_1"] if i % 3 else "UNSURE"
    filled = tmp_path / "filled.csv"
    with filled.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    from sndskit.omop import review_statistics

    stats = review_statistics(read_review(filled))
    agree = sum(1 for i in range(len(rows)) if i % 3)
    assert stats["kappa"]["observed_agreement"] == pytest.approx(agree / len(rows))
    assert stats["disagreements_unresolved"] == len(rows) - agree
    # Precision: only agreed rows count; per stratum all-correct or all-incorrect by design.
    per_stratum = {s["stratum"]: s for s in stats["strata"]}
    for name, s in per_stratum.items():
        assert s["estimate"] in (0.0, 1.0, None) or name.endswith("APPROVED")
    p = stats["precision"]
    assert 0.0 <= p["low"] <= p["estimate"] <= p["high"] <= 1.0
