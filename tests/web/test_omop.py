"""OMOP pages: the quality report equals the library's on the same store; a review in the
queue is recorded (reviewer, history) and moves the report."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from sndskit.omop import MappingStatus, MappingStore, assess_quality, read_mappings
from sndskit.omop.mappings import group_by_source
from sndskit.web import create_app
from tests.web.conftest import CsrfClient

MAPPINGS_FILE = Path(__file__).resolve().parents[1] / "omop" / "data" / "test_mappings.usagi.csv"
VOCAB_SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "omop" / "vocab-sample"


@pytest.fixture()
def mappings_db(tmp_path) -> Path:
    path = tmp_path / "mappings.duckdb"
    with MappingStore(path) as store:
        store.apply(read_mappings(MAPPINGS_FILE), actor="import", origin="test")
    return path


@pytest.fixture()
def omop_client(settings, mappings_db):
    settings.mappings = mappings_db
    return CsrfClient(create_app(settings))


def _approved_codes(path: Path, vocabulary: str) -> int:
    """Source codes with an approved usable target, counted here in Python."""
    with MappingStore(path, read_only=True) as store:
        groups = group_by_source(store.mappings(vocabulary))
    return sum(
        any(m.is_mapped and m.status == MappingStatus.APPROVED for m in targets)
        for targets in groups.values()
    )


def _coverage_cells(page: str, vocabulary: str) -> list[str]:
    row = re.search(rf'<tr data-vocabulary="{vocabulary}">(.*?)</tr>', page, re.S)[1]
    return re.findall(r'<td class="num[^"]*">([^<]*)</td>', row)


def test_quality_report_matches_the_library(omop_client, mappings_db, sample_home):
    with MappingStore(mappings_db, read_only=True) as store:
        report = assess_quality(store.mappings())
    page = omop_client.get("/omop").text
    for row in report["coverage"]:
        cells = _coverage_cells(page, row["vocabulary"])
        assert cells[:3] == [
            str(row["codes"]),
            str(row["codes_mapped"]),
            str(row["codes_approved"]),
        ]


def test_queue_lists_every_source_code_unapproved_first(omop_client, mappings_db):
    with MappingStore(mappings_db, read_only=True) as store:
        groups = group_by_source(store.mappings())
    page = omop_client.get("/omop/queue").text
    shown = re.findall(r'<tr data-code="([^"]+)">', page)
    assert sorted(shown) == sorted(f"{v}:{c}" for v, c in groups)
    pending = {
        f"{v}:{c}" for (v, c), ms in groups.items() if any(m.status != "APPROVED" for m in ms)
    }
    assert set(shown[: len(pending)]) == pending
    flagged = omop_client.get("/omop/queue", params={"status": "FLAGGED"}).text
    assert len(re.findall(r"<tr data-code=", flagged)) == sum(
        any(m.status == "FLAGGED" for m in ms) for ms in groups.values()
    )


def _pending_code(path: Path) -> tuple[str, str]:
    with MappingStore(path, read_only=True) as store:
        return next(
            m.source
            for m in store.mappings("CIM10")
            if m.status == MappingStatus.UNCHECKED and m.target_concept_id > 0
        )


def test_approving_a_mapping_is_recorded_and_moves_the_report(omop_client, mappings_db):
    vocab, code = _pending_code(mappings_db)
    before = _approved_codes(mappings_db, vocab)
    assert _coverage_cells(omop_client.get("/omop").text, vocab)[2] == str(before)
    response = omop_client.post(
        "/omop/review",
        data={
            "vocab": vocab,
            "code": code,
            "action": "approve",
            "reviewer": "dr.martin",
            "comment": "vu en comité",
        },
    )
    assert response.status_code == 200 and response.headers["HX-Redirect"].startswith("/omop/")
    with MappingStore(mappings_db, read_only=True) as store:
        targets = [m for m in store.mappings(vocab) if m.source_code == code]
        history = store.history(vocab, code)
    assert all(m.status == MappingStatus.APPROVED and m.reviewer == "dr.martin" for m in targets)
    assert history[-1].actor == "dr.martin" and history[-1].action == "update"
    assert _approved_codes(mappings_db, vocab) == before + 1
    assert _coverage_cells(omop_client.get("/omop").text, vocab)[2] == str(before + 1)
    page = omop_client.get("/omop/review", params={"vocab": vocab, "code": code}).text
    assert "dr.martin" in page and "vu en comité" in page


def test_flag_and_choose_another_target(omop_client, mappings_db):
    vocab, code = _pending_code(mappings_db)
    omop_client.post(
        "/omop/review",
        data={
            "vocab": vocab,
            "code": code,
            "action": "retarget",
            "concept_id": "4329847",
            "reviewer": "dr.b",
            "equivalence": "WIDER",
        },
    )
    with MappingStore(mappings_db, read_only=True) as store:
        targets = [m for m in store.mappings(vocab) if m.source_code == code]
    assert [(m.target_concept_id, m.status, m.equivalence) for m in targets] == [
        (4329847, MappingStatus.APPROVED, "WIDER")
    ]
    omop_client.post(
        "/omop/review", data={"vocab": vocab, "code": code, "action": "flag", "reviewer": "dr.c"}
    )
    with MappingStore(mappings_db, read_only=True) as store:
        assert {m.status for m in store.mappings(vocab) if m.source_code == code} == {
            MappingStatus.FLAGGED
        }


def test_review_needs_a_reviewer_and_a_known_action(omop_client, mappings_db):
    vocab, code = _pending_code(mappings_db)
    nameless = omop_client.post(
        "/omop/review", data={"vocab": vocab, "code": code, "action": "approve", "reviewer": " "}
    )
    assert nameless.status_code == 400 and "reviewer" in html.unescape(nameless.text)
    odd = omop_client.post(
        "/omop/review", data={"vocab": vocab, "code": code, "action": "delete", "reviewer": "x"}
    )
    assert odd.status_code == 400 and "allowed: approve, flag, retarget" in html.unescape(odd.text)


def test_without_a_mapping_store_the_page_says_how(client):
    assert "--mappings" in client.get("/omop").text
    assert client.get("/omop/queue").status_code == 400


@pytest.fixture(scope="module")
def vocab_db(tmp_path_factory) -> Path:
    if not VOCAB_SAMPLE.is_dir():
        pytest.skip(f"OMOP vocabulary extract not found at {VOCAB_SAMPLE}")
    from sndskit.omop import load_vocabulary

    db = tmp_path_factory.mktemp("omop") / "vocabulary.duckdb"
    load_vocabulary(VOCAB_SAMPLE, db)
    return db


@pytest.mark.shared_data
def test_suggestions_and_target_search_with_a_vocabulary(settings, mappings_db, vocab_db):
    from sndskit.omop import Suggester, connect_vocabulary

    settings.mappings, settings.vocabulary = mappings_db, vocab_db
    client = CsrfClient(create_app(settings))
    vocab, code = _pending_code(mappings_db)
    with MappingStore(mappings_db, read_only=True) as store:
        approved = [m for m in store.mappings(vocab) if m.status == MappingStatus.APPROVED]
    con = connect_vocabulary(vocab_db)
    try:
        expected = Suggester(con, vocab, store=settings.store, approved=approved).suggest(code, 5)
    finally:
        con.close()
    page = client.get("/omop/review", params={"vocab": vocab, "code": code, "q": "diabetes"}).text
    if expected:
        table = re.search(r'id="suggestions">(.*?)</table>', page, re.S)[1]
        assert re.findall(r"<td><code>(\d+)</code>", table) == [str(s.concept_id) for s in expected]
    found = re.search(r'id="found">(.*?)</table>', page, re.S)[1]
    assert all("diabetes" in name.lower() for name in re.findall(r"</code></td><td>([^<]*)", found))


def test_double_review_gives_precision_and_kappa(omop_client, settings, mappings_db):
    """Six rows judged by two reviewers: agreement 4/6, each says CORRECT 4 times out of 6,
    so κ = (4/6 − 20/36) / (1 − 20/36) = 0.25 (computed by hand)."""
    page = omop_client.get("/omop/sample").text
    with MappingStore(mappings_db, read_only=True) as store:
        with_target = [m for m in store.mappings() if m.target_concept_id > 0]
    n_rows = len(re.findall(r'<tr id="sample-\d+">', page))
    assert 0 < n_rows <= len(with_target)
    pairs = [
        ("CORRECT", "CORRECT"),
        ("CORRECT", "CORRECT"),
        ("CORRECT", "INCORRECT"),
        ("INCORRECT", "INCORRECT"),
        ("CORRECT", "CORRECT"),
        ("INCORRECT", "CORRECT"),
    ]
    for i, (first, second) in enumerate(pairs):
        response = omop_client.post(
            "/omop/sample",
            data={
                "row": str(i),
                "reviewer_1": "a",
                "verdict_1": first,
                "reviewer_2": "b",
                "verdict_2": second,
            },
        )
        assert response.status_code == 200
    page = omop_client.get("/omop/sample").text
    assert re.search(r'id="kappa">([^<]+)<', page)[1] == "0.25"
    assert re.search(r'id="unresolved">(\d+)<', page)[1] == "2"
    saved = (settings.workspace / "omop" / "review_sample.csv").read_text()
    assert saved.count(",a,") >= 6
    bad = omop_client.post("/omop/sample", data={"row": "0", "verdict_1": "MAYBE"})
    assert bad.status_code == 400 and "allowed" in bad.text


def test_quality_report_includes_the_double_review(omop_client, settings):
    omop_client.get("/omop/sample")
    for i, verdict in enumerate(["CORRECT", "CORRECT", "INCORRECT"]):
        omop_client.post(
            "/omop/sample", data={"row": str(i), "verdict_1": verdict, "verdict_2": verdict}
        )
    from sndskit.omop import read_review, review_statistics

    stats = review_statistics(read_review(settings.workspace / "omop" / "review_sample.csv"))
    page = html.unescape(omop_client.get("/omop").text)
    p = stats["precision"]
    shown = re.search(r'id="report-precision">([^<]+)<', page)[1]
    assert shown == f"{p['estimate']:.3f} ({p['low']:.3f}–{p['high']:.3f})"
