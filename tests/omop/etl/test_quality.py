"""DataQualityDashboard-style checks: JSON shape, each family catching a planted violation,
and published counts masked 1–10."""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sndskit.disclosure import MASK
from sndskit.omop.etl.checks import publish_counts, run_checks
from sndskit.omop.etl.publish import write_quality

pytestmark = pytest.mark.shared_data


def _result(results, name, table, field):
    return next(
        r
        for r in results
        if r["checkName"] == name and r["cdmTableName"] == table and r["cdmFieldName"] == field
    )


def test_dqd_json_has_the_dashboard_shape(converted):
    document = json.loads((converted.out / "_etl" / "dqd.json").read_text(encoding="utf-8"))
    assert set(document) >= {"startTimestamp", "Overview", "CheckResults", "Metadata"}
    overview = document["Overview"]
    assert overview["countTotal"] == len(document["CheckResults"])
    assert (
        overview["countPassed"] + overview["countOverallFailed"] + overview["countNotApplicable"]
        == overview["countTotal"]
    )
    names = {r["checkName"] for r in document["CheckResults"]}
    assert names >= {
        "isRequired", "isPrimaryKey", "isForeignKey", "fkDomain", "isStandardValidConcept",
        "standardConceptRecordCompleteness", "plausibleStartBeforeEnd", "plausibleAfterBirth",
        "plausibleBeforeDeath", "plausibleValueLow", "plausibleValueHigh",
        "withinObservationPeriod",
    }  # fmt: skip
    html = (converted.out / "_etl" / "dqd.html").read_text(encoding="utf-8")
    assert "Contrôles" in html and "Checks" in html


def test_checks_pass_except_mapping_completeness_and_ald_history(converted):
    """Completeness fails (the test mapping set maps three codes); containment fails for the
    ALD registrations that started before the claims (history, docs/omop_etl.md)."""
    results = run_checks(converted.out)
    failed = {(r["checkName"], r["cdmTableName"]) for r in results if r.get("failed")}
    assert {name for name, _ in failed} == {
        "standardConceptRecordCompleteness",
        "withinObservationPeriod",
    }
    assert ("withinObservationPeriod", "CONDITION_OCCURRENCE") in failed
    conditions = converted.table("condition_occurrence")
    row = _result(
        results, "standardConceptRecordCompleteness", "CONDITION_OCCURRENCE",
        "CONDITION_CONCEPT_ID",
    )  # fmt: skip
    assert row["numViolatedRows"] == sum(1 for r in conditions if r["condition_concept_id"] == 0)
    assert row["numDenominatorRows"] == len(conditions)
    periods = {p["person_id"]: p for p in converted.table("observation_period")}
    outside = [
        r
        for r in conditions
        if not periods[r["person_id"]]["observation_period_start_date"]
        <= r["condition_start_date"]
        <= periods[r["person_id"]]["observation_period_end_date"]
    ]
    contained = _result(
        results, "withinObservationPeriod", "CONDITION_OCCURRENCE", "CONDITION_START_DATE"
    )
    assert contained["numViolatedRows"] == len(outside) > 0
    assert {r["condition_status_source_value"] for r in outside} == {"ALD"}


def test_concept_checks_read_the_vocabulary(converted, vocab_db):
    results = run_checks(converted.out, vocab_db)
    row = _result(results, "isStandardValidConcept", "CONDITION_OCCURRENCE", "CONDITION_CONCEPT_ID")
    assert row["notApplicable"] is False and row["numViolatedRows"] == 0
    domain = _result(results, "fkDomain", "CONDITION_OCCURRENCE", "CONDITION_CONCEPT_ID")
    assert domain["numViolatedRows"] == 0
    without = run_checks(converted.out)
    assert _result(without, "fkDomain", "CONDITION_OCCURRENCE", "CONDITION_CONCEPT_ID")[
        "notApplicable"
    ]


@pytest.fixture()
def tampered(converted, tmp_path):
    """A copy of the output with planted violations."""
    out = tmp_path / "cdm"
    shutil.copytree(converted.out, out)
    person = pq.read_table(out / "person.parquet")
    pq.write_table(pa.concat_tables([person, person.slice(0, 3)]), out / "person.parquet")
    drugs = pq.read_table(out / "drug_exposure.parquet").to_pylist()
    for row in drugs[:4]:  # end before start, and a quantity below the plausible low
        row["drug_exposure_end_date"], row["drug_exposure_start_date"] = (
            row["drug_exposure_start_date"],
            row["drug_exposure_end_date"],
        )
        row["quantity"] = 0.0
    schema = pq.read_schema(out / "drug_exposure.parquet")
    pq.write_table(pa.Table.from_pylist(drugs, schema=schema), out / "drug_exposure.parquet")
    return out


def test_planted_violations_are_found(tampered):
    results = run_checks(tampered)
    assert _result(results, "isPrimaryKey", "PERSON", "PERSON_ID")["numViolatedRows"] == 6
    end = _result(results, "plausibleStartBeforeEnd", "DRUG_EXPOSURE", "DRUG_EXPOSURE_END_DATE")
    assert end["numViolatedRows"] == sum(
        1
        for r in pq.read_table(tampered / "drug_exposure.parquet").to_pylist()
        if r["drug_exposure_end_date"] < r["drug_exposure_start_date"]
    )
    assert end["numViolatedRows"] >= 1
    low = _result(results, "plausibleValueLow", "DRUG_EXPOSURE", "QUANTITY")
    assert low["numViolatedRows"] == 4


def test_published_counts_are_masked(tampered):
    document = write_quality(tampered, threshold=10)
    primary = _result(document["CheckResults"], "isPrimaryKey", "PERSON", "PERSON_ID")
    assert primary["numViolatedRows"] == MASK
    assert primary["pctViolatedRows"] is None
    assert primary["failed"] is True
    low = _result(document["CheckResults"], "plausibleValueLow", "DRUG_EXPOSURE", "QUANTITY")
    assert low["numViolatedRows"] == MASK
    zero = _result(document["CheckResults"], "isRequired", "PERSON", "PERSON_ID")
    assert zero["numViolatedRows"] == 0  # zero is not masked
    text = (tampered / "_etl" / "dqd.json").read_text(encoding="utf-8")
    assert json.loads(text)["CheckResults"] == json.loads(json.dumps(document["CheckResults"]))


def test_publish_counts_masks_each_column():
    rows = [{"a": 3, "b": 40}, {"a": 0, "b": 11}, {"a": 25, "b": 10}]
    masked = publish_counts(rows, ["a", "b"], threshold=10)
    assert [r["a"] for r in masked] == [MASK, 0, 25]
    assert [r["b"] for r in masked] == [40, 11, MASK]
