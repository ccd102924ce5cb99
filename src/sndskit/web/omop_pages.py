"""OMOP alignment: the quality report and the mapping review queue (replaces Usagi)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from sndskit.web.pages import render

router = APIRouter(prefix="/omop")


@router.get("")
def index_page(request: Request):
    return render(request, "omop.html")
