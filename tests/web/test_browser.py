"""End-to-end tests in headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright;
never a browser download). Each test writes screenshots of the pages it visits into
``$SNDSKIT_WEB_SCREENSHOTS`` (default: a temporary folder); docs/web.md shows them."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from sndskit.codelists.export import export_codelist
from sndskit.codelists.model import load_codelist
from tests.web.conftest import TREATED_ADULTS

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt)"
    ),
]
playwright_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _serve(settings):
    """The app served by uvicorn on a free loopback port, in a thread of this process."""
    import uvicorn

    from sndskit.web import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    app_server = uvicorn.Server(config)
    thread = threading.Thread(target=app_server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if app_server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    app_server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture()
def server(settings):
    with _serve(settings) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("SNDSKIT_WEB_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _snap(page, shots: Path, name: str, *, full: bool = False) -> None:
    """A PNG screenshot of the page (``full``: its whole height)."""
    page.screenshot(path=shots / f"{name}.png", full_page=full)


def test_search_avc_shows_i63_with_its_reason(server, page, shots):
    page.goto(server + "/")
    _snap(page, shots, "home")
    page.goto(server + "/codes")
    page.fill("input[name=q]", "avc")  # typed: the hits come as you type (htmx)
    row = page.locator('tr[data-code="CIM10:I63"]')
    row.wait_for()
    assert "abréviation" in row.inner_text() and "AVC" in row.inner_text()
    _snap(page, shots, "codes", full=True)
    row.locator("a").first.click()
    page.wait_for_url(re.compile(r"/codes/concept"))
    assert "I63" in page.locator("h1").inner_text()
    page.locator("#descendants").wait_for()  # loaded after the page by htmx
    assert page.locator("#ancestors").inner_text() == "IX › I60-I69 ›"
    assert page.locator("#descendants tbody tr").count() == 2  # I630, I639 in the sample
    _snap(page, shots, "concept", full=True)
    page.click("#lang-en")
    page.wait_for_selector("html[lang=en]")
    assert "Descendants" in page.content() and "Add to code list" in page.content()


def test_catalogue_pages(server, page, shots):
    page.goto(server + "/catalog")
    _snap(page, shots, "catalog")
    page.goto(server + "/catalog/search")
    page.fill("input[name=q]", "code CIP")
    page.locator("#hits table").wait_for()
    _snap(page, shots, "catalog_search")
    page.goto(server + "/catalog/tables/ER_PHA_F")
    _snap(page, shots, "table")
    page.goto(server + "/catalog/join?left=ER_PHA_F&right=IR_BEN_R")
    assert "JOIN" in page.locator("#join-sql").inner_text()
    _snap(page, shots, "join")


def test_build_a_code_list_from_two_rules_freeze_and_download_csv(server, page, shots, settings):
    page.goto(server + "/codelists/new")
    page.fill("input[name=name]", "stroke_e2e")
    page.fill("input[name=description]", "AVC")
    page.check("input[name=vocabularies][value=CIM10]")
    for values, kind in (("I63*", "patterns"), ("I64", "codes")):
        before = page.locator("fieldset.rule").count()
        page.click("#add-rule")
        page.locator("fieldset.rule").nth(before).wait_for()
        rule = page.locator("fieldset.rule").nth(before)
        rule.locator("input[name$=-id]").fill(f"rule_{before + 1}")
        rule.locator("select[name$=-kind]").select_option(kind)
        rule.locator("textarea").fill(values)
    page.locator('#entries tr[data-code="CIM10:I64"]').wait_for()
    page.locator('#entries tr[data-code="CIM10:I63"]').wait_for()
    _snap(page, shots, "codelist_builder", full=True)
    page.click("#freeze")
    page.wait_for_url(re.compile(r"/codelists/view/stroke_e2e-v1\.0$"))
    _snap(page, shots, "codelist_view")
    with page.expect_download() as info:
        page.click("#export-csv")
    download = info.value
    frozen = load_codelist(settings.codelist_path("stroke_e2e-v1.0"))
    assert {e.code for e in frozen.entries} >= {"I63", "I630", "I64"}
    assert Path(download.path()).read_text(encoding="utf-8") == export_codelist(frozen, "csv")
    assert download.suggested_filename == "stroke_e2e-v1.0.csv"
    page.goto(server + "/codelists")
    assert page.locator("#saved-lists").inner_text().count("stroke_e2e-v1.0") == 1
    _snap(page, shots, "codelists")


def test_build_a_cohort_run_it_and_see_the_masked_attrition(server, page, shots):
    page.goto(server + "/cohorts")
    form = page.locator("#cohort-form")
    form.locator("input[name=name]").fill("treated_e2e")
    form.locator("input[name=period_start]").fill("2019-01-01")
    form.locator("input[name=period_end]").fill("2019-12-31")
    form.locator("select[name=entry-0-codelist]").select_option("drugs.json")
    page.locator("#cohort-sql").wait_for()
    page.wait_for_function(
        "document.querySelector('#cohort-yaml').textContent.includes('drugs.json')"
    )
    assert "Population « treated_e2e »" in page.locator("#method-text").inner_text()
    _snap(page, shots, "cohort_builder", full=True)
    page.click("#run-cohort")
    page.wait_for_url(re.compile(r"/cohorts/runs/"))
    page.locator("#flowchart").wait_for(timeout=120_000)
    boxes = page.locator("#flowchart .box strong").all_inner_texts()
    assert boxes[-1] == str(TREATED_ADULTS) and "masqué" in boxes
    _snap(page, shots, "cohort_run", full=True)


def test_approve_a_mapping_in_the_review_queue_and_see_the_report_change(
    settings, tmp_path, browser, shots
):
    from sndskit.omop import MappingStore, read_mappings
    from tests.web.test_omop import MAPPINGS_FILE

    settings.mappings = tmp_path / "mappings.duckdb"
    with MappingStore(settings.mappings) as store:
        store.apply(read_mappings(MAPPINGS_FILE), actor="import", origin="test")
    with _serve(settings) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        page.goto(url + "/omop")
        cell = page.locator('#coverage tr[data-vocabulary="CIM10"] td.approved')
        before = int(cell.inner_text())
        _snap(page, shots, "omop_quality", full=True)
        page.click("#open-queue")
        page.select_option("select[name=status]", "UNCHECKED")
        page.click("form.inline button")
        row = page.locator('#queue tr[data-code^="CIM10:"]').first
        row.wait_for()
        _snap(page, shots, "omop_queue", full=True)
        row.locator("a").click()
        page.wait_for_url(re.compile(r"/omop/review\?"))
        page.fill("#reviewer", "dr.martin")
        page.fill("input[name=comment]", "validé en comité")
        page.click("#approve")
        page.locator("#history td", has_text="dr.martin").first.wait_for()
        _snap(page, shots, "omop_review", full=True)
        page.goto(url + "/omop")
        assert int(cell.inner_text()) == before + 1
        page.goto(url + "/omop/sample")
        page.locator("#sample").wait_for()
        _snap(page, shots, "omop_sample")
        context.close()


@pytest.mark.parametrize("example", ["t2d_treated", "acs_hospitalised"])
def test_the_form_writes_back_the_example_it_was_loaded_from(server, page, example):
    """Round trip: example YAML → form fields → YAML written by the form: the same spec."""
    from importlib import resources

    from sndskit.cohorts.spec import CohortSpec
    from sndskit.specs import load_spec, parse_spec

    path = resources.files("sndskit") / "resources" / "cohorts" / "examples" / f"{example}.yaml"
    page.goto(server + f"/cohorts?example={example}")
    page.locator("#cohort-yaml").wait_for()
    written = parse_spec(page.locator("#cohort-yaml").inner_text(), CohortSpec)
    expected = load_spec(Path(str(path)), CohortSpec)
    assert written.model_dump() == expected.model_dump()


def test_the_builder_writes_back_every_curated_list(server, page):
    """Round trip: curated spec → builder form → YAML written by the form: the same spec."""
    from sndskit.codelists.library import list_library
    from sndskit.codelists.spec import CodelistSpec
    from sndskit.specs import parse_spec

    for spec in list_library():
        page.goto(server + f"/codelists/new?base={spec.name}")
        page.locator("#spec-yaml").wait_for(state="attached")
        written = parse_spec(page.locator("#spec-yaml").text_content(), CodelistSpec)
        assert written.model_dump() == spec.model_dump(), spec.name
