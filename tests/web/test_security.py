"""Safety of the web app: token off loopback, CSRF and origin checks, allow-listed data,
user strings that stay text, errors without tracebacks, one language catalogue."""

from __future__ import annotations

import html
import re
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sndskit.config import store_path
from sndskit.terminology import search_concepts
from sndskit.web import WebSettings, create_app
from sndskit.web.i18n import LANGUAGES, messages
from sndskit.web.settings import is_loopback

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "sndskit" / "web" / "templates"
FORM = {"name": "x", "description": "", "vocabularies": ["CIM10"]}


def test_post_without_csrf_token_is_refused(client):
    bare = client.client.post("/codelists/preview", data=FORM)
    assert bare.status_code == 403
    wrong = client.client.post("/codelists/preview", data=FORM, headers={"X-CSRF-Token": "x" * 32})
    assert wrong.status_code == 403
    assert client.post("/codelists/preview", data=FORM).status_code == 200
    form_field = client.client.post(
        "/codelists/preview", data={**FORM, "csrf_token": client.cookies["sndskit_csrf"]}
    )
    assert form_field.status_code == 200


def test_request_from_another_origin_is_refused(client):
    response = client.post(
        "/codelists/preview", data=FORM, headers={"Origin": "http://evil.example"}
    )
    assert response.status_code == 403
    same = client.post("/codelists/preview", data=FORM, headers={"Origin": "http://127.0.0.1"})
    assert same.status_code == 200


def test_foreign_host_header_is_refused(client):
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_beyond_loopback_every_request_needs_the_token(settings):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and not is_loopback("0.0.0.0")
    open_settings = WebSettings(store=settings.store, workspace=settings.workspace, host="0.0.0.0")
    token = open_settings.token
    assert token and len(token) >= 24
    browser = TestClient(create_app(open_settings), base_url="http://192.0.2.7:8765")
    assert browser.get("/codes").status_code == 401
    assert browser.get("/codes", params={"token": "wrong"}).status_code == 401
    assert browser.get("/", params={"token": token}).status_code == 200
    assert browser.get("/codes").status_code == 200  # the token is now a cookie
    other = TestClient(create_app(open_settings), base_url="http://192.0.2.7:8765")
    assert other.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    csrf = browser.cookies["sndskit_csrf"]
    cross = browser.post(
        "/codelists/preview",
        data=FORM,
        headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"},
    )
    assert cross.status_code == 403


def test_loopback_needs_no_token():
    assert WebSettings(workspace=Path("/tmp/sndskit-web-test")).token is None


@pytest.mark.parametrize("data", ["/etc", "../synth", "synth/../../etc", "SYNTH"])
def test_data_path_outside_the_allow_list_is_refused(client, data):
    page = client.get("/codelists/view/drugs/usage", params={"data": data})
    assert page.status_code == 400
    assert "unknown data source" in html.unescape(page.text) and "allowed: synth" in page.text


@pytest.mark.parametrize("name", ["../drugs", "..%2F..%2Fetc%2Fpasswd", "a/b", "Drugs"])
def test_saved_names_cannot_leave_the_workspace(client, name):
    assert client.get(f"/codelists/view/{name}").status_code in (400, 404)
    assert client.get(f"/cohorts/saved/{name}").status_code in (400, 404)
    assert client.get(f"/cohorts/saved/{name}/rates.png").status_code in (400, 404)


HOSTILE = "<script>alert(1)</script>' OR 1=1; DROP TABLE concepts; --"


def test_code_strings_with_sql_or_html_stay_text(client, sample_home):
    page = client.get("/codes", params={"q": HOSTILE})
    assert page.status_code in (200, 400)
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)" in page.text
    # the store is intact: the search still answers as before
    assert search_concepts("avc", store=store_path(sample_home))
    form = {
        "name": "x",
        "description": HOSTILE,
        "vocabularies": ["CIM10"],
        "rules-a-id": "r",
        "rules-a-vocabulary": "CIM10",
        "rules-a-kind": "codes",
        "rules-a-values": HOSTILE.replace(",", ""),
    }
    preview = client.post("/codelists/preview", data=form).text
    assert "<script>alert" not in preview and "&lt;script&gt;" in preview
    table = client.get("/catalog/tables/" + "<b>x</b>")
    assert "<b>x</b>" not in table.text


def test_errors_are_messages_never_tracebacks(settings, monkeypatch):
    import sndskit.web.codes_pages as codes_pages

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(codes_pages, "search_concepts", broken)
    browser = TestClient(
        create_app(settings), base_url="http://127.0.0.1", raise_server_exceptions=False
    )
    page = browser.get("/codes", params={"q": "avc"})
    assert page.status_code == 500
    assert "Erreur interne" in page.text
    assert "secret internal detail" not in page.text and "Traceback" not in page.text
    missing = browser.get("/nowhere")
    assert missing.status_code == 404 and "Page introuvable" in missing.text


def test_every_message_key_used_by_a_template_exists_in_both_languages():
    catalogue = messages()
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""\bt\(["']([a-z_.]+)["']\)""", template.read_text()))
        used |= set(re.findall(r"""\bt\(["']([a-z_.]+)["'],""", template.read_text()))
    assert used and not used - set(catalogue)
    for key, texts in catalogue.items():
        assert all(texts[lang].strip() for lang in LANGUAGES), key


def test_french_first_with_an_english_toggle(client):
    assert 'lang="fr"' in client.get("/codes").text and "Listes de codes" in client.get("/").text
    response = client.get("/lang/en", params={"next": "/codes"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/codes"
    page = client.get("/codes").text
    assert 'lang="en"' in page and "Code lists" in page and "Listes de codes" not in page
    away = client.get("/lang/fr", params={"next": "//evil.example"}, follow_redirects=False)
    assert away.headers["location"] == "/"


def test_concurrent_searches_give_the_sequential_answers(client, sample_home):
    queries = ["avc", "infarctus", "I63", "E11*", "diabète"] * 4
    expected = {
        q: [h.code for h in search_concepts(q, limit=20, store=store_path(sample_home))]
        for q in set(queries)
    }
    results: dict[int, tuple[str, list[str]]] = {}

    def ask(i: int, q: str) -> None:
        page = client.get("/codes", params={"q": q, "limit": 20}, headers={"HX-Request": "true"})
        results[i] = (q, [c.split(":")[1] for c in re.findall(r'data-code="([^"]+)"', page.text)])

    threads = [threading.Thread(target=ask, args=(i, q)) for i, q in enumerate(queries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == len(queries)
    for q, codes in results.values():
        assert codes == expected[q]


PAGES = [
    "/", "/catalog", "/catalog/search?q=date", "/catalog/tables/IR_BEN_R",
    "/catalog/join?left=ER_PHA_F&right=IR_BEN_R", "/catalog/nomenclatures/IR_ALD_V",
    "/codes?q=avc", "/codes/concept?vocab=CIM10&code=I63", "/codelists", "/codelists/new",
    "/codelists/view/drugs", "/cohorts", "/omop",
]  # fmt: skip


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_page_renders_in_both_languages(client, lang):
    client.get(f"/lang/{lang}")
    other = {"fr": "Code lists", "en": "Listes de codes"}[lang]
    for url in PAGES:
        page = client.get(url)
        assert page.status_code == 200, url
        assert f'<html lang="{lang}">' in page.text and other not in page.text, url
