"""Cohort builder: the form's YAML, French method text and SQL equal the library's answers on
the same spec; a run on synthetic data shows the masked attrition true by design."""

from __future__ import annotations

import html
import itertools
import re
import time

from sndskit.cohorts.describe import describe_cohort
from sndskit.cohorts.runner import plan_cohort, resolve_codelists
from sndskit.cohorts.spec import CohortSpec
from sndskit.specs import parse_spec
from tests.web.conftest import (
    OTHER_DRUG_ONLY,
    TREATED_ADULTS,
    TREATED_MINORS,
    TWO_DISPENSINGS,
)

FORM = {
    "name": "treated",
    "description": "Adultes traités",
    "period_start": "2019-01-01",
    "period_end": "2019-12-31",
    "entry-0-source": "drug_dispensing",
    "entry-0-codelist": "drugs.json",
    "at_least": "3",
    "within_days": "365",
    "distinct_dates": "on",
    "index": "first",
    "age_min": "18",
    "exit_at": "end_of_study",
    "quality_filters": "cnam",
    "flux_lag_months": "6",
    "finess_duplicates": "finess_46",
    "dialect": "duckdb",
    "data": "synth",
}
YAML = """
name: treated
description: Adultes traités
period: {start: 2019-01-01, end: 2019-12-31}
entry:
  events: [{source: drug_dispensing, codelist: drugs.json}]
  occurrences: {at_least: 3, distinct_dates: true, within_days: 365}
  index: first
inclusion:
  - {name: age, age: {min: 18}}
exit: {at: end_of_study}
snds: {quality_filters: cnam, flux_lag_months: 6, finess_duplicates: finess_46}
"""


def _block(page: str, element_id: str) -> str:
    return html.unescape(re.search(rf'id="{element_id}">(.*?)</', page, re.S)[1])


def test_preview_writes_the_yaml_method_and_sql(client, settings, sample_home):
    spec = parse_spec(YAML, CohortSpec)
    codelists = resolve_codelists(spec, settings.workspace / "codelists")
    for dialect in ("duckdb", "spark", "oracle"):
        page = client.post("/cohorts/preview", data={**FORM, "dialect": dialect}).text
        assert parse_spec(_block(page, "cohort-yaml"), CohortSpec) == spec
        assert _block(page, "method-text") == describe_cohort(spec)
        assert _block(page, "cohort-sql") == plan_cohort(spec, codelists).to_sql(dialect)


def test_preview_reports_the_spec_error(client):
    page = client.post("/cohorts/preview", data={**FORM, "period_end": "2018-01-01"}).text
    assert 'id="cohort-error"' in page and "before its start" in page
    page = client.post("/cohorts/preview", data={**FORM, "exit_at": "fixed_duration"}).text
    assert "fixed_duration needs days" in page


def test_builder_page_loads_the_examples(client):
    page = client.get("/cohorts", params={"example": "acs_hospitalised"}).text
    assert 'value="acs_hospitalised"' in page
    assert "<option selected>acute_coronary_syndrome</option>" in page
    assert client.get("/cohorts", params={"example": "../x"}).status_code == 400


def _wait(client, job_url: str) -> str:
    for _ in range(600):
        page = client.get(job_url + "/status").text
        if "hx-trigger" not in page:
            return page
        time.sleep(0.1)
    raise AssertionError("the run did not finish")


def test_run_shows_the_masked_attrition(client):
    """41 persons, 34 with an entry event, 29 meeting the 3-dispensing rule, 25 adults: every
    shown step is its true count, and no two shown steps differ by 1–10 persons (the
    disclosure audit may mask more steps than the primary small differences)."""
    response = client.post("/cohorts/run", data=FORM)
    target = response.headers["HX-Redirect"]
    assert target.startswith("/cohorts/runs/")
    assert "<progress" in client.get(target).text or "flowchart" in client.get(target).text
    page = _wait(client, target)
    flow = re.search(r'id="flowchart">(.*?)</div>\s*<h2', page, re.S)[1]
    shown = re.findall(r"<strong>([^<]*)</strong>", flow)
    everyone = TREATED_ADULTS + TWO_DISPENSINGS + TREATED_MINORS + OTHER_DRUG_ONLY
    adults = str(TREATED_ADULTS)
    truth = [
        everyone,
        TREATED_ADULTS + TWO_DISPENSINGS + TREATED_MINORS,
        TREATED_ADULTS + TREATED_MINORS,
        TREATED_ADULTS,
        TREATED_ADULTS,
    ]
    assert len(shown) == len(truth) and shown[0] == str(everyone) and adults in shown
    assert all(s == "masqué" or s == str(t) for s, t in zip(shown, truth, strict=True))
    assert "masqué" in shown[1:3]  # 34 and 29 differ from their neighbours by < 11
    visible = [int(s) for s in shown if s != "masqué"]
    assert not any(1 <= a - b <= 10 for a, b in itertools.pairwise(visible))
    counts = re.search(r'id="counts">(.*?)</table>', page, re.S)[1]
    assert re.findall(r'<td class="num">([^<]*)</td>', counts) == [str(TREATED_ADULTS)]
    rates = re.search(r'id="rates">(.*?)</table>', page, re.S)[1]
    row = re.search(r"<tr><td>2019</td><td>hommes</td><td>40-64</td>(.*?)</tr>", rates, re.S)[1]
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    # all incident and prevalent in 2019; a rates row is masked whole when its stratum is
    # small (population, person-years and cases together)
    assert cells[0] == cells[2] and cells[0] in ("masqué", str(TREATED_ADULTS))
    for figure in ("attrition", "rates"):
        image = client.get(f"{target}/{figure}.png")
        assert image.status_code == 200 and image.content[:4] == b"\x89PNG"
    assert client.get(f"{target}/cohort.png").status_code == 400  # nothing else is served
    saved = re.search(r'href="(/cohorts/saved/[^"]+)" id="saved-link"', page)[1]
    kept = client.get(saved).text  # read back from the run folder, as the runner wrote it
    flow = re.search(r'id="flowchart">(.*?)</div>\s*<h2', kept, re.S)[1]
    assert re.findall(r"<strong>([^<]*)</strong>", flow) == shown
    assert saved.rsplit("/", 1)[1] in client.get("/cohorts").text
    assert client.get(saved + "/rates.png").content[:4] == b"\x89PNG"


def test_run_refuses_data_outside_the_allow_list(client, tmp_path):
    for data in (str(tmp_path), "/etc", "../synth"):
        response = client.post("/cohorts/run", data={**FORM, "data": data})
        assert response.status_code == 400
        assert "unknown data source" in html.unescape(response.text)


def test_cohort_codelists_only_from_the_offered_names(client, tmp_path):
    outside = tmp_path / "evil.json"
    outside.write_text("{}")
    for ref in (str(outside), "../../evil.json", "../codelists/drugs.json"):
        page = client.post("/cohorts/preview", data={**FORM, "entry-0-codelist": ref}).text
        assert "field 'codelist'" in html.unescape(page)


def test_a_failing_run_shows_its_message(settings, synth_data, tmp_path):
    """A data folder holding only the beneficiaries: the run page names the missing table,
    without a traceback."""
    import shutil

    from sndskit.web import create_app
    from tests.web.conftest import CsrfClient

    partial = tmp_path / "partial"
    partial.mkdir()
    for entry in synth_data.glob("IR_BEN_R*"):
        copy = shutil.copytree if entry.is_dir() else shutil.copy
        copy(entry, partial / entry.name)
    settings.data_dirs["partial"] = partial
    client = CsrfClient(create_app(settings))
    response = client.post("/cohorts/run", data={**FORM, "data": "partial"})
    target = response.headers.get("HX-Redirect")
    page = _wait(client, target) if target else response.text
    assert 'role="alert"' in page and "Traceback" not in page
    assert "ER_PRS_F" in page or "ER_PHA_F" in page


def test_curated_code_lists_compile_as_the_library_resolves_them(client, settings):
    """The page keeps resolved curated lists; its SQL is the library's on fresh ones."""
    form = {
        **FORM,
        "entry-0-source": "hospital_diagnosis",
        "entry-0-codelist": "stroke",
        "entry-0-roles": ["DP"],
        "at_least": "1",
        "within_days": "",
    }
    for _ in range(2):  # second time from the page's cache
        page = client.post("/cohorts/preview", data=form).text
        spec = parse_spec(_block(page, "cohort-yaml"), CohortSpec)
        codelists = resolve_codelists(spec, settings.workspace / "codelists", store=settings.store)
        assert _block(page, "cohort-sql") == plan_cohort(spec, codelists).to_sql("duckdb")
    assert spec.entry.events[0].roles == ["DP"]
