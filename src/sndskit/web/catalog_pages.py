"""Catalogue pages: products and tables, variable search, table page, join path with SQL."""

from __future__ import annotations

from fastapi import APIRouter, Request

from sndskit.catalog import get_catalog, get_nomenclature_values
from sndskit.catalog.export import describe_table, join_path_as_dict, tables_overview
from sndskit.codelists.export import DIALECTS
from sndskit.web.pages import check_choice, is_htmx, render, settings_of, with_store

router = APIRouter(prefix="/catalog")


def _catalog(request: Request):
    return with_store(get_catalog, settings_of(request).store)


@router.get("")
def tables_page(request: Request, product: str | None = None):
    catalog = _catalog(request)
    rows = tables_overview(catalog, product or None)
    products: dict[str, list[dict]] = {}
    for row in rows:
        products.setdefault(row["product"], []).append(row)
    return render(
        request,
        "catalog.html",
        catalog=catalog,
        products=products,
        product=product,
        n_tables=len(rows),
    )


@router.get("/search")
def search_page(request: Request, q: str = "", product: str | None = None, limit: int = 50):
    catalog = _catalog(request)
    hits = catalog.search_fields(q, limit=limit, product=product or None) if q.strip() else []
    template = "catalog_hits.html" if is_htmx(request) else "catalog_search.html"
    return render(request, template, catalog=catalog, hits=hits, q=q, product=product)


@router.get("/tables/{name}")
def table_page(request: Request, name: str):
    catalog = _catalog(request)
    info = describe_table(catalog, name)
    return render(request, "table.html", info=info, catalog=catalog)


@router.get("/nomenclatures/{name}")
def nomenclature_page(request: Request, name: str, limit: int = 200):
    catalog = _catalog(request)
    info, columns, rows = with_store(
        get_nomenclature_values, name, limit=limit, catalog=catalog, path=settings_of(request).store
    )
    return render(request, "nomenclature.html", info=info, columns=columns, rows=rows)


@router.get("/join")
def join_page(request: Request, left: str = "", right: str = "", dialect: str = "duckdb"):
    catalog = _catalog(request)
    check_choice(dialect, DIALECTS, "dialect")
    path = (
        join_path_as_dict(catalog, left, right, dialect=dialect)
        if left.strip() and right.strip()
        else None
    )
    return render(
        request,
        "join.html",
        catalog=catalog,
        join=path,
        left=left,
        right=right,
        dialect=dialect,
        dialects=DIALECTS,
    )
