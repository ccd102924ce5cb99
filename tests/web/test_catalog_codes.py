"""Catalogue and codes pages: what they show is what the library answers, asked directly."""

from __future__ import annotations

import html
import re

import pytest

from sndskit.catalog import get_catalog
from sndskit.catalog.export import describe_table, join_path_as_dict, tables_overview
from sndskit.config import store_path
from sndskit.terminology import get_descendants, get_related, search_concepts


def _text(page: str) -> str:
    """The page's visible text, tags removed and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_home_and_catalogue_list_every_table(client, sample_home):
    catalog = get_catalog(store_path(sample_home))
    page = client.get("/catalog")
    assert page.status_code == 200
    for row in tables_overview(catalog):
        assert f'href="/catalog/tables/{row["name"]}"' in page.text
    assert "mini-échantillon" in page.text  # the sample store is announced
    dcir = client.get("/catalog", params={"product": "DCIR"}).text
    expected = {r["name"] for r in tables_overview(catalog, "DCIR")}
    shown = set(re.findall(r'href="/catalog/tables/([^"]+)"', dcir))
    assert shown == expected


def test_variable_search_matches_the_library_and_is_live(client, sample_home):
    catalog = get_catalog(store_path(sample_home))
    hits = catalog.search_fields("code CIP 13", limit=50)
    assert hits
    full = client.get("/catalog/search", params={"q": "code CIP 13"})
    partial = client.get(
        "/catalog/search", params={"q": "code CIP 13"}, headers={"HX-Request": "true"}
    )
    assert "<html" in full.text and "<html" not in partial.text  # htmx gets the hits only
    rows = re.findall(
        r"<tr><td><a href=\"/catalog/tables/([^\"]+)\">.*?<code>([^<]+)</code></td>", partial.text
    )
    assert rows == [(h.table, h.field) for h in hits]


def test_table_page_shows_variables_types_nomenclatures_and_keys(client, sample_home):
    catalog = get_catalog(store_path(sample_home))
    info = describe_table(catalog, "ER_PHA_F")
    page = client.get("/catalog/tables/ER_PHA_F").text
    fields = re.findall(r"<td><code>([A-Z0-9_]+)</code>", page)
    assert fields == [f["name"] for f in info["fields"]]
    for f in info["fields"]:
        if f["nomenclature"]:
            assert f"/catalog/nomenclatures/{f['nomenclature']}" in page
    for fk in info["foreign_keys"]:
        assert f"/catalog/tables/{fk['reference_table']}" in page
    assert ", ".join(info["primary_key"]) in page


def test_join_path_with_sql_per_dialect(client, sample_home):
    catalog = get_catalog(store_path(sample_home))
    for dialect in ("duckdb", "oracle"):
        expected = join_path_as_dict(catalog, "ER_PHA_F", "IR_BEN_R", dialect=dialect)
        page = client.get(
            "/catalog/join", params={"left": "ER_PHA_F", "right": "IR_BEN_R", "dialect": dialect}
        ).text
        sql = re.search(r'<pre class="sql" id="join-sql">(.*?)</pre>', page, re.S)[1]
        assert html.unescape(sql) == expected["sql"]
        for hop in expected["hops"]:
            assert f"<code>{hop['left']}</code> → <code>{hop['right']}</code>" in page


def test_unknown_table_is_a_message_with_suggestions_not_a_traceback(client):
    page = client.get("/catalog/tables/ER_PHA_X")
    assert page.status_code == 400
    assert "unknown table" in page.text and "ER_PHA_F" in page.text
    assert "Traceback" not in page.text
    bad = client.get("/catalog/join", params={"left": "A", "right": "B", "dialect": "mysql!"})
    assert bad.status_code == 400 and "allowed: duckdb" in html.unescape(bad.text)


def test_nomenclature_page(client, sample_home):
    from sndskit.catalog import get_nomenclature_values

    _info, columns, rows = get_nomenclature_values(
        "IR_ALD_V", limit=200, path=store_path(sample_home)
    )
    page = client.get("/catalog/nomenclatures/IR_ALD_V").text
    assert all(f"<code>{c}</code>" in page for c in columns)
    assert page.count("<tr><td>") == len(rows)


def test_code_search_shows_each_hit_with_its_reason(client, sample_home):
    store = store_path(sample_home)
    hits = search_concepts("avc", limit=50, store=store)
    page = client.get("/codes", params={"q": "avc"}, headers={"HX-Request": "true"}).text
    shown = re.findall(r'<tr data-code="([^"]+)">', page)
    assert shown == [f"{h.vocabulary}:{h.code}" for h in hits]
    i63 = re.search(r'<tr data-code="CIM10:I63">(.*?)</tr>', page, re.S)[1]
    assert "abréviation" in i63 and "AVC" in i63  # the reason: the curated abbreviation


def test_code_search_filters(client, sample_home):
    store = store_path(sample_home)
    params = {"q": "avc", "vocab": "CIM10", "level": "3"}
    expected = search_concepts("avc", vocabularies=["CIM10"], levels=[3], limit=50, store=store)
    page = client.get("/codes", params=params, headers={"HX-Request": "true"}).text
    assert re.findall(r'<tr data-code="([^"]+)">', page) == [
        f"{h.vocabulary}:{h.code}" for h in expected
    ]
    bad = client.get("/codes", params={"q": "avc", "valid_at": "hier"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text


def test_concept_page_hierarchy_relations_and_add_to_list(client, sample_home):
    store = store_path(sample_home)
    params = {"vocab": "CIM10", "code": "I63"}
    page = client.get("/codes/concept", params=params).text
    assert "/codelists/new?add=CIM10%3AI63" in page
    assert 'hx-get="/codes/concept/descendants?vocab=CIM10&amp;code=I63"' in page
    below = get_descendants("CIM10", "I63", store=store)
    assert below
    fragment = client.get("/codes/concept/descendants", params=params).text
    assert re.findall(r"<code>([^<]+)</code>", fragment) == [d.code for d in below]
    related = get_related("CIM10", "I63", store=store)
    fragment = client.get("/codes/concept/relations", params=params).text
    assert fragment.count("<tr><td><code>") == len(related)
    parents = client.get("/codes/concept/ancestors", params={"vocab": "CIM10", "code": "I630"})
    assert re.findall(r'code=([^"]+)">', parents.text) == ["IX", "I60-I69", "I63"]


@pytest.mark.shared_data
def test_drug_product_links_boxes_substance_and_atc(real_home, tmp_path):
    """On the real store: a metformin product links to its CIP13 boxes, substance and ATC."""
    from sndskit.web import WebSettings, create_app
    from tests.web.conftest import CsrfClient

    store = store_path(real_home)
    client = CsrfClient(create_app(WebSettings(store=store, workspace=tmp_path)))
    hit = next(
        h for h in search_concepts("metformine", limit=50, store=store) if h.vocabulary == "CIS"
    )
    related = get_related("CIS", hit.code, store=store)
    vocabularies = {r["vocabulary"] for r in related}
    assert "CIP13" in vocabularies and {"ATC", "SUBSTANCE"} <= vocabularies
    page = client.get("/codes/concept/relations", params={"vocab": "CIS", "code": hit.code}).text
    table = re.search(r'<table class="grid" id="relations">(.*?)</table>', page, re.S)[1]
    assert table.count("<tr><td><code>") == len(related)
    for r in related:
        assert r["relation"] in table and r["code"] in table
