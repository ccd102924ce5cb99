"""OMOP alignment: the quality report and a review queue that replaces Usagi for review —
per source code: current targets, suggestions with scores, search of target concepts,
approve / flag / choose another target / comment, reviewer name, history."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlglot import exp

from sndskit.errors import SndskitError
from sndskit.omop import (
    Equivalence,
    Mapping,
    MappingStatus,
    MappingStore,
    Suggester,
    assess_quality,
    connect_vocabulary,
)
from sndskit.omop.mappings import group_by_source
from sndskit.omop.report import headline
from sndskit.omop.review import (
    VERDICTS,
    draw_review_sample,
    read_review,
    review_statistics,
    write_review_sample,
)
from sndskit.web.pages import check_choice, redirect, render, settings_of, with_store
from sndskit.web.security import check_csrf

router = APIRouter(prefix="/omop")
ACTIONS = ("approve", "flag", "retarget")
# One connection per request to the mapping store, one request at a time: DuckDB allows a
# single read-write connection to a file per process.
_MAPPINGS_LOCK = threading.Lock()


@contextlib.contextmanager
def mapping_store(request: Request) -> Iterator[MappingStore]:
    path = settings_of(request).mappings
    if path is None:
        raise SndskitError(
            "no mapping store configured", field="--mappings", hint="sndskit web --mappings FILE"
        )
    with _MAPPINGS_LOCK, MappingStore(path) as store:
        yield store


@contextlib.contextmanager
def vocabulary(request: Request) -> Iterator:
    """The OMOP vocabulary database when configured (suggestions, target search), else None."""
    path = settings_of(request).vocabulary
    if path is None:
        yield None
        return
    con = connect_vocabulary(path)
    try:
        yield con
    finally:
        con.close()


def _report(request: Request, mappings: list[Mapping]) -> dict:
    """The library's report, with the verdicts entered on the double-review page if any."""
    sample = _sample_path(request)
    review = read_review(sample) if sample.exists() else None
    with vocabulary(request) as vocab:
        return with_store(
            assess_quality,
            mappings,
            vocab=vocab,
            store=settings_of(request).store,
            review=review if review and any(r["verdict_1"] for r in review) else None,
        )


@router.get("")
def quality_page(request: Request):
    """The alignment-quality report of the configured mapping store."""
    if settings_of(request).mappings is None:
        return render(request, "omop.html", report=None)
    with mapping_store(request) as store:
        mappings = store.mappings()
    report = _report(request, mappings)
    return render(request, "omop.html", report=report, headline=headline(report))


@router.get("/queue")
def queue_page(request: Request, status: str = "", vocab: str = ""):
    """Source codes to review, those not yet approved first."""
    if status:
        check_choice(status, [s.value for s in MappingStatus], "status")
    with mapping_store(request) as store:
        groups = group_by_source(store.mappings(vocab or None))
    rows = []
    for (vocabulary_id, code), targets in groups.items():
        statuses = sorted({m.status.value for m in targets})
        if status and status not in statuses:
            continue
        rows.append(
            {
                "vocabulary": vocabulary_id,
                "code": code,
                "targets": targets,
                "approved": statuses == ["APPROVED"],
            }
        )
    rows.sort(key=lambda r: (r["approved"], r["vocabulary"], r["code"]))
    return render(
        request,
        "omop_queue.html",
        rows=rows,
        status_filter=status,
        vocab=vocab,
        statuses=[s.value for s in MappingStatus],
    )


def _search_targets(vocab, text: str, limit: int = 20) -> list[dict]:
    """Standard concepts whose name holds every word of ``text`` (case-insensitive)."""
    query = exp.select("concept_id", "concept_name", "vocabulary_id", "domain_id").from_("concept")
    query = query.where("standard_concept = 'S' AND invalid_reason IS NULL")
    for word in text.split()[:8]:
        query = query.where(
            exp.ILike(this=exp.column("concept_name"), expression=exp.Literal.string(f"%{word}%"))
        )
    rows = vocab.execute(query.order_by("concept_name").limit(limit).sql("duckdb")).fetchall()
    return [dict(zip(("concept_id", "name", "vocabulary", "domain"), r, strict=True)) for r in rows]


@router.get("/review")
def review_page(request: Request, vocab: str, code: str, q: str = ""):
    """One source code: its targets, suggestions, a target search, the review form, history."""
    with mapping_store(request) as store:
        targets = [m for m in store.mappings(vocab) if m.source_code == code]
        history = store.history(vocab, code)
        approved = [m for m in store.mappings(vocab) if m.status == MappingStatus.APPROVED]
    if not targets:
        raise SndskitError(f"no mapping for {vocab} {code}", field="code")
    suggestions, found = [], []
    with vocabulary(request) as con:
        if con is not None:
            suggester = with_store(
                Suggester, con, vocab, store=settings_of(request).store, approved=approved
            )
            suggestions = with_store(suggester.suggest, code, 5)
            found = _search_targets(con, q) if q.strip() else []
    return render(
        request,
        "omop_review.html",
        vocab=vocab,
        code=code,
        targets=targets,
        history=list(reversed(history)),
        suggestions=suggestions,
        found=found,
        q=q,
        equivalences=[e.value for e in Equivalence],
    )


def _retarget(current: list[Mapping], concept_id: int, reviewer: str, **changes) -> Mapping:
    base = current[0]
    return base.model_copy(
        update={
            "target_concept_id": concept_id,
            "target_name": "",
            "target_vocabulary_id": "",
            "target_domain_id": "",
            "score": None,
            "status": MappingStatus.APPROVED,
            "reviewer": reviewer,
            **changes,
        }
    )


@router.post("/review", dependencies=[Depends(check_csrf)])
async def review_action(request: Request):
    """Approve, flag or choose another target for a source code, recorded in the history."""
    form = await request.form()
    vocab, code = str(form.get("vocab", "")), str(form.get("code", ""))
    action = check_choice(str(form.get("action", "")), ACTIONS, "action")
    reviewer = str(form.get("reviewer", "")).strip()
    if not reviewer:
        raise SndskitError("give the reviewer's name", field="reviewer")
    comment = str(form.get("comment", "")).strip() or None
    equivalence = str(form.get("equivalence", "")) or None
    if equivalence:
        check_choice(equivalence, [e.value for e in Equivalence], "equivalence")
    with mapping_store(request) as store:
        if action == "retarget":
            try:
                concept_id = int(str(form.get("concept_id", "")))
            except ValueError:
                raise SndskitError("not a concept id", field="concept_id") from None
            current = [m for m in store.mappings(vocab) if m.source_code == code]
            if not current:
                raise SndskitError(f"no mapping for {vocab} {code}", field="code")
            new = _retarget(
                current,
                concept_id,
                reviewer,
                equivalence=Equivalence(equivalence or "EQUAL"),
                comment=comment or "",
            )
            store.apply([new], actor=reviewer, origin="web review")
        else:
            status = MappingStatus.APPROVED if action == "approve" else MappingStatus.FLAGGED
            store.review(
                vocab,
                code,
                reviewer=reviewer,
                status=status,
                comment=comment,
                equivalence=Equivalence(equivalence) if equivalence else None,
            )
    return redirect(request, "/omop/review?" + urlencode({"vocab": vocab, "code": code}))


# -- double review ------------------------------------------------------------------------
def _sample_path(request: Request) -> Path:
    return settings_of(request).workspace / "omop" / "review_sample.csv"


def _sample_rows(request: Request) -> list[dict]:
    """The double-review sample, drawn once from the store (stratified, seed 7), then kept
    with the verdicts entered on the page."""
    path = _sample_path(request)
    if not path.exists():
        with mapping_store(request) as store:
            mappings = store.mappings()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_review_sample(draw_review_sample(mappings, 200, seed=7), path)
    return read_review(path)


@router.get("/sample")
def sample_page(request: Request):
    """Each sampled mapping with both reviewers' verdicts; precision (95 % CI) and κ."""
    rows = _sample_rows(request)
    stats = review_statistics(rows) if any(r["verdict_1"] for r in rows) else None
    return render(request, "omop_sample.html", rows=rows, stats=stats, verdicts=VERDICTS)


@router.get("/sample.csv")
def sample_csv(request: Request):
    _sample_rows(request)
    return Response(
        _sample_path(request).read_text(encoding="utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="review_sample.csv"'},
    )


@router.post("/sample", dependencies=[Depends(check_csrf)])
async def sample_verdicts(request: Request):
    """Record the verdicts of one sampled row (reviewer 1, reviewer 2, final)."""
    form = await request.form()
    rows = _sample_rows(request)
    try:
        row = rows[int(str(form.get("row", "")))]
    except (ValueError, IndexError):
        raise SndskitError("no such row of the sample", field="row") from None
    for column in ("verdict_1", "verdict_2", "verdict_final"):
        value = str(form.get(column, "")).strip().upper()
        row[column] = check_choice(value, ["", *VERDICTS], column) if value else ""
    for column in ("reviewer_1", "reviewer_2", "comment"):
        row[column] = str(form.get(column, row.get(column, ""))).strip()
    with _MAPPINGS_LOCK:
        write_review_sample(rows, _sample_path(request))
    return redirect(request, "/omop/sample")
