"""Source codes through the mapping store: standard targets, concept 0 with the source
concept for unmapped codes, one row per target, record-level coverage and the usage file."""

from __future__ import annotations

from collections import Counter

import pytest

from sndskit.omop.etl.publish import coverage, usage_rows
from sndskit.omop.quality import assess_quality, read_usage

pytestmark = pytest.mark.shared_data


def test_unmapped_codes_keep_concept_zero_and_their_source_concept(converted):
    rows = converted.table("condition_occurrence")
    unmapped = [r for r in rows if ("CIM10", r["condition_source_value"]) not in converted.targets]
    assert unmapped
    for row in unmapped:
        assert row["condition_concept_id"] == 0
        assert (
            row["condition_source_concept_id"]
            == converted.source_ids[("CIM10", row["condition_source_value"])]
        )
        assert row["condition_source_concept_id"] > 2_000_000_000


def test_mapped_codes_get_every_standard_target(converted, etl_mappings):
    rows = converted.table("condition_occurrence")
    by_code: dict[str, set[int]] = {}
    for row in rows:
        by_code.setdefault(row["condition_source_value"], set()).add(row["condition_concept_id"])
    one, two, non_standard = (etl_mappings[i].source_code for i in (0, 1, 3))
    assert by_code[one] == {etl_mappings[0].target_concept_id}
    assert by_code[two] == {etl_mappings[1].target_concept_id, etl_mappings[2].target_concept_id}
    assert by_code[non_standard] == {0}  # its only target is not standard: dropped
    assert converted.dropped == 1
    # one record per target: the two-target code has twice the rows of its source records
    records = Counter(
        (r["person_id"], r["condition_start_date"], r["condition_status_source_value"])
        for r in rows
        if r["condition_source_value"] == two
    )
    assert set(records.values()) == {2}


def test_record_coverage_counts_records_of_mapped_codes(converted, etl_mappings):
    usage = usage_rows(converted.out)
    cells = {(c["table"], c["vocabulary"]): c for c in coverage(usage)}
    conditions = converted.table("condition_occurrence")
    mapped_codes = {etl_mappings[0].source_code, etl_mappings[1].source_code}
    cell = cells[("condition_occurrence", "CIM10")]
    assert cell["records"] == len(conditions)
    assert cell["records_mapped"] == sum(
        1 for r in conditions if r["condition_source_value"] in mapped_codes
    )
    drugs = converted.table("drug_exposure")
    cip = etl_mappings[4].source_code
    assert cells[("drug_exposure", "CIP13")]["records_mapped"] == sum(
        1 for r in drugs if r["drug_source_value"] == cip
    )


def test_usage_file_feeds_the_alignment_quality_report(converted, etl_mappings):
    usage = read_usage(converted.out / "_etl" / "usage.csv")
    conditions = converted.table("condition_occurrence")
    assert sum(n for (v, _), n in usage.items() if v == "CIM10") == len(conditions) + sum(
        1 for d in converted.table("death") if d["cause_source_value"]
    )
    report = assess_quality(etl_mappings, usage=usage)
    cim10 = next(c for c in report["coverage"] if c["vocabulary"] == "CIM10")
    assert cim10["records_total"] == sum(n for (v, _), n in usage.items() if v == "CIM10")
    assert 0 < cim10["share_records_mapped"] < 1
