"""Codes: live search across vocabularies with the reason of each hit; the concept page."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request

from sndskit.errors import SndskitError
from sndskit.terminology import (
    VOCABULARIES,
    get_ancestors,
    get_concept,
    get_descendants,
    get_related,
    search_concepts,
)
from sndskit.web.pages import is_htmx, render, settings_of, with_store

router = APIRouter(prefix="/codes")
MAX_DESCENDANTS = 200


def _day(valid_at: str) -> date | None:
    if not valid_at:
        return None
    try:
        return date.fromisoformat(valid_at)
    except ValueError:
        raise SndskitError(f"not a date: {valid_at!r} (use YYYY-MM-DD)", field="valid_at") from None


def _levels(level: str) -> list[int] | None:
    if not level:
        return None
    try:
        return [int(v) for v in level.split(",") if v.strip()]
    except ValueError:
        raise SndskitError(f"not a level: {level!r} (1, 2, 3 …)", field="level") from None


@router.get("")
def search_page(
    request: Request,
    q: str = "",
    vocab: str = "",
    level: str = "",
    valid_at: str = "",
    limit: int = 50,
):
    """The search form; with ``hx-request`` only the hits (live search as you type)."""
    hits = []
    if q.strip():
        hits = with_store(
            search_concepts,
            q,
            vocabularies=[vocab] if vocab else None,
            levels=_levels(level),
            valid_at=_day(valid_at),
            limit=max(1, min(limit, 500)),
            store=settings_of(request).store,
        )
    template = "codes_hits.html" if is_htmx(request) else "codes.html"
    filters = {"q": q, "vocab": vocab, "level": level, "valid_at": valid_at}
    return render(request, template, hits=hits, vocabularies=VOCABULARIES, **filters)


@router.get("/concept")
def concept_page(request: Request, vocab: str, code: str):
    """One concept; its ancestors, relations (CIP13 ↔ substance ↔ ATC …) and descendants
    load right after, each in its own request (each is a query on the store)."""
    concept = with_store(get_concept, vocab, code, store=settings_of(request).store)
    return render(request, "concept.html", concept=concept)


@router.get("/concept/ancestors")
def ancestors_fragment(request: Request, vocab: str, code: str):
    ancestors = with_store(get_ancestors, vocab, code, store=settings_of(request).store)
    return render(
        request, "concept_ancestors.html", vocab=vocab, ancestors=list(reversed(ancestors))
    )


@router.get("/concept/relations")
def relations_fragment(request: Request, vocab: str, code: str):
    related = with_store(get_related, vocab, code, store=settings_of(request).store)
    return render(request, "concept_relations.html", related=related)


@router.get("/concept/descendants")
def descendants_fragment(request: Request, vocab: str, code: str):
    below = with_store(get_descendants, vocab, code, store=settings_of(request).store)
    return render(
        request,
        "concept_descendants.html",
        vocab=vocab,
        descendants=below[:MAX_DESCENDANTS],
        n_descendants=len(below),
    )
