"""Mapping store (review state, history, as-of) and the four file formats (round trips, errors)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sndskit.errors import SndskitError
from sndskit.omop import (
    Equivalence,
    Mapping,
    MappingStatus,
    MappingStore,
    MappingType,
    read_mappings,
    write_mappings,
)

from .conftest import MAPPINGS_FILE

SOURCE_IDS = {("CIM10", "E11"): 2_000_000_011, ("CIM10", "E119"): 2_000_000_012}


def test_test_set_reads_every_row(test_mappings, mapping_rows):
    assert len(test_mappings) == len(mapping_rows) == 68
    e11 = next(m for m in test_mappings if m.source_code == "E11")
    assert (e11.target_concept_id, e11.status, e11.equivalence) == (201826, "APPROVED", "EQUAL")
    assert e11.reviewed_at == datetime(2025, 12, 1, tzinfo=UTC)
    assert e11.created_at == datetime(2025, 11, 30, tzinfo=UTC)


def test_model_forbids_unknown_fields():
    with pytest.raises(ValidationError):
        Mapping(source_vocabulary="CIM10", source_code="E11", colour="red")


def test_store_records_every_change_and_replays_the_past(tmp_path, test_mappings):
    store = MappingStore(tmp_path / "m.duckdb")
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    assert store.apply(test_mappings, actor="alice", origin="import", at=t0).added == 68
    assert store.apply(test_mappings, actor="alice", origin="again").unchanged == 68
    store.review(
        "CIM10", "E113", reviewer="bob", status=MappingStatus.FLAGGED, comment="retinopathy only"
    )
    e112 = [m for m in store.mappings("CIM10") if m.source_code == "E112"]
    # Re-import E112 with one target: the other is removed (Usagi semantics).
    summary = store.apply([e112[0]], actor="carol", origin="fix")
    assert (summary.removed, summary.unchanged) == (1, 1)
    events = store.history("CIM10", "E113")
    assert [e.action for e in events] == ["create", "update"]
    assert set(events[1].changes) == {"status", "reviewer", "reviewed_at", "comment"}
    assert events[1].actor == "bob"
    past = store.as_of(t0 + timedelta(seconds=1))
    assert len(past) == 68
    assert next(m for m in past if m.source_code == "E113").status == MappingStatus.UNCHECKED
    assert len(store.mappings()) == 67
    store.close()


def _same(a: list[Mapping], b: list[Mapping], fields: list[str] | None = None) -> None:
    def key(m):
        return m.key

    a, b = sorted(a, key=key), sorted(b, key=key)
    if fields is None:
        assert a == b
    else:
        assert [[getattr(m, f) for f in fields] for m in a] == [
            [getattr(m, f) for f in fields] for m in b
        ]


def test_usagi_round_trip(tmp_path, test_mappings):
    write_mappings(test_mappings, tmp_path / "m.csv", "usagi")
    _same(read_mappings(tmp_path / "m.csv", "usagi"), test_mappings)
    header = (tmp_path / "m.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    # Usagi 1.4's own columns, in its order (WriteCodeMappingsToFile), plus ADD_INFO columns.
    usagi = [
        "sourceCode",
        "sourceName",
        "sourceFrequency",
        "sourceAutoAssignedConceptIds",
        "matchScore",
        "mappingStatus",
        "equivalence",
        "statusSetBy",
        "statusSetOn",
        "conceptId",
        "conceptName",
        "domainId",
        "mappingType",
        "comment",
        "createdBy",
        "createdOn",
        "assignedReviewer",
    ]
    assert [c for c in header if not c.startswith("ADD_INFO:")] == usagi


def test_sssom_round_trip_and_predicates(tmp_path, test_mappings):
    path = write_mappings(test_mappings, tmp_path / "m.sssom.tsv", "sssom")
    _same(read_mappings(path), test_mappings)
    text = path.read_text()
    assert text.startswith("#curie_map:")
    body = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    header = body[0]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in body[1:]}
    assert rows["CIM10:E11"]["predicate_id"] == "skos:exactMatch"
    assert rows["CIM10:E119"]["predicate_id"] == "skos:broadMatch"  # WIDER
    assert rows["CIM10:I500"]["predicate_id"] == "skos:narrowMatch"  # NARROWER
    assert rows["CIM10:C189"]["predicate_id"] == "skos:closeMatch"  # EQUIVALENT
    assert rows["CIM10:Z720"]["object_id"] == "sssom:NoTermFound"
    assert rows["CIM10:E11"]["mapping_justification"] == "semapv:ManualMappingCuration"


def test_stcm_and_relationship_round_trips_keep_what_they_carry(tmp_path, test_mappings):
    exported = [m for m in test_mappings if m.source in SOURCE_IDS]
    fields = ["source_vocabulary", "source_code", "target_concept_id", "mapping_type"]
    write_mappings(exported, tmp_path / "stcm.csv", "stcm", source_ids=SOURCE_IDS)
    back = read_mappings(tmp_path / "stcm.csv", default_status=MappingStatus.APPROVED)
    _same(back, exported, [*fields, "source_name", "status"])
    header = (tmp_path / "stcm.csv").read_text().splitlines()[0].split(",")
    assert header == [
        "source_code",
        "source_concept_id",
        "source_vocabulary_id",
        "source_code_description",
        "target_concept_id",
        "target_vocabulary_id",
        "valid_start_date",
        "valid_end_date",
        "invalid_reason",
    ]
    value = exported[0].model_copy(
        update={"mapping_type": MappingType.MAPS_TO_VALUE, "target_concept_id": 4181412}
    )
    write_mappings([*exported, value], tmp_path / "rel.csv", "relationship", source_ids=SOURCE_IDS)
    lines = (tmp_path / "rel.csv").read_text().splitlines()
    assert "2000000011,201826,Maps to,2025-11-30,2099-12-31," in lines
    assert "201826,2000000011,Mapped from,2025-11-30,2099-12-31," in lines
    assert "2000000011,4181412,Maps to value,2025-11-30,2099-12-31," in lines
    back = read_mappings(tmp_path / "rel.csv", "relationship", source_ids=SOURCE_IDS)
    _same(back, [*exported, value], fields)


text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
mapping_strategy = st.builds(
    Mapping,
    source_vocabulary=st.sampled_from(["CIM10", "CCAM", "NABM"]),
    source_code=st.from_regex(r"[A-Z0-9][A-Z0-9.+\-]{0,9}", fullmatch=True),
    source_name=text,
    source_frequency=st.none() | st.integers(0, 10**9),
    target_concept_id=st.integers(0, 2**31 - 1),
    target_name=text,
    mapping_type=st.sampled_from(list(MappingType)),
    status=st.sampled_from(list(MappingStatus)),
    equivalence=st.sampled_from(list(Equivalence)),
    score=st.none() | st.floats(0, 1),
    author=text,
    reviewer=text,
    comment=text,
    assigned_reviewer=text,
    created_at=st.none() | times,
    reviewed_at=st.none() | times,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(mapping_strategy, max_size=8, unique_by=lambda m: m.key))
def test_usagi_and_sssom_round_trips_on_random_mappings(tmp_path, mappings):
    usagi = write_mappings(mappings, tmp_path / "r.csv", "usagi")
    _same(read_mappings(usagi, "usagi"), mappings)
    sssom = write_mappings(mappings, tmp_path / "r.sssom.tsv", "sssom")
    _same(read_mappings(sssom, "sssom"), mappings)


def test_malformed_usagi_names_file_line_column_and_allowed_values(tmp_path):
    lines = MAPPINGS_FILE.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",APPROVED,", ",APROVED,")
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SndskitError) as caught:
        read_mappings(bad)
    message = str(caught.value)
    assert message.startswith(f"{bad}:4: field 'mappingStatus': unknown value 'APROVED'")
    assert "allowed: APPROVED, UNCHECKED, AUTO_MAPPED, FLAGGED, INVALID_TARGET" in message


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        ("sourceCode,sourceName", "E11,x", "1: field 'mappingStatus': missing column"),
        (
            "sourceCode,mappingStatus,conceptId,ADD_INFO:sourceVocabulary",
            "E11,APPROVED,abc,CIM10",
            "2: field 'conceptId': not a number: 'abc' (allowed: an integer)",
        ),
        (
            "sourceCode,mappingStatus,conceptId,equivalence,ADD_INFO:sourceVocabulary",
            "E11,APPROVED,1,SAME,CIM10",
            "2: field 'equivalence': unknown value 'SAME'",
        ),
        (
            "sourceCode,mappingStatus,conceptId",
            "E11,APPROVED,1",
            "2: field 'ADD_INFO:sourceVocabulary': no source vocabulary",
        ),
    ],
)
def test_usagi_errors(tmp_path, header, row, expected):
    path = tmp_path / "u.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    with pytest.raises(SndskitError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        read_mappings(path, "usagi")


def test_usagi_file_from_usagi_itself_with_legacy_status(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text(
        "sourceCode,sourceName,sourceFrequency,sourceAutoAssignedConceptIds,"
        "matchScore,mappingStatus,conceptId\nE11,Diabète,12,,0.91,AUTO_MAPPED_TO_1,201826\n",
        encoding="utf-8",
    )
    (m,) = read_mappings(path, source_vocabulary="CIM10")
    assert (m.status, m.equivalence, m.score, m.source_frequency) == (
        MappingStatus.AUTO_MAPPED,
        Equivalence.UNREVIEWED,
        0.91,
        12,
    )


def test_relationship_with_unknown_source_concept(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("concept_id_1,concept_id_2,relationship_id\n2000000099,201826,Maps to\n")
    with pytest.raises(SndskitError, match=r"r.csv:2: field 'concept_id_1'"):
        read_mappings(path, "relationship", source_ids=SOURCE_IDS)
