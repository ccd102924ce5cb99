"""Code-list builder: preview, freeze, diff, exports and masked usage, each checked against the
library called directly on the same spec."""

from __future__ import annotations

import html
import re

from sndskit.codelists.diff import diff_codelists
from sndskit.codelists.export import export_codelist
from sndskit.codelists.model import load_codelist
from sndskit.codelists.resolve import build_codelist
from sndskit.codelists.spec import CodelistSpec
from sndskit.config import store_path
from sndskit.specs import parse_spec
from tests.web.conftest import TREATED_ADULTS, TREATED_MINORS, TWO_DISPENSINGS

STROKE_FORM = {
    "name": "stroke_test",
    "description": "AVC ischémique et hémorragique",
    "version": "1.0",
    "vocabularies": ["CIM10"],
    "include_descendants": "on",
    "rules-a-id": "infarctus",
    "rules-a-vocabulary": "CIM10",
    "rules-a-kind": "patterns",
    "rules-a-values": "I63*",
    "rules-b-id": "hemorragie",
    "rules-b-vocabulary": "CIM10",
    "rules-b-kind": "codes",
    "rules-b-values": "I64",
}
STROKE_YAML = """
name: stroke_test
description: AVC ischémique et hémorragique
version: "1.0"
vocabularies: [CIM10]
include_descendants: true
rules:
  - {id: infarctus, vocabulary: CIM10, patterns: ["I63*"]}
  - {id: hemorragie, vocabulary: CIM10, codes: [I64]}
"""


def _expected(sample_home, text=STROKE_YAML):
    return build_codelist(parse_spec(text, CodelistSpec), store=store_path(sample_home))


def test_preview_shows_the_resolved_codes_with_provenance(client, sample_home):
    expected = _expected(sample_home)
    assert expected.entries
    page = client.post("/codelists/preview", data=STROKE_FORM).text
    assert re.findall(r'<tr data-code="([^"]+)">', page) == [
        f"{e.vocabulary}:{e.code}" for e in expected.entries
    ]
    for entry in expected.entries:
        row = re.search(rf'<tr data-code="{entry.vocabulary}:{entry.code}">(.*?)</tr>', page, re.S)
        for p in entry.found_from:
            assert f"<code>{p.rule}</code>" in row[1]
    yaml_text = html.unescape(re.search(r'<pre id="spec-yaml">(.*?)</pre>', page, re.S)[1])
    assert parse_spec(yaml_text, CodelistSpec) == parse_spec(STROKE_YAML, CodelistSpec)


def test_preview_error_names_the_field(client):
    form = {**STROKE_FORM, "rules-b-values": "", "rules-b-kind": "codes"}
    page = client.post("/codelists/preview", data=form).text
    assert 'id="spec-error"' in page and "rules.1" in page and "give exactly one of" in page


def test_freeze_then_export_every_format(client, settings, sample_home):
    response = client.post("/codelists/freeze", data=STROKE_FORM)
    assert response.headers["HX-Redirect"] == "/codelists/view/stroke_test-v1.0"
    frozen = load_codelist(settings.codelist_path("stroke_test-v1.0"))
    assert [e.key for e in frozen.entries] == [e.key for e in _expected(sample_home).entries]
    page = client.get("/codelists/view/stroke_test-v1.0").text
    assert page.count('<tr data-code="') == len(frozen.entries)
    for fmt in ("csv", "json", "atlas", "markdown"):
        download = client.get("/codelists/view/stroke_test-v1.0/export", params={"fmt": fmt})
        assert download.text == export_codelist(frozen, fmt)
        assert "attachment" in download.headers["content-disposition"]
    sql = client.get(
        "/codelists/view/stroke_test-v1.0/export", params={"fmt": "sql", "dialect": "oracle"}
    )
    assert sql.text == export_codelist(frozen, "sql", dialect="oracle")
    again = client.post("/codelists/freeze", data=STROKE_FORM)  # a frozen version is kept
    assert again.status_code == 400 and "already frozen" in again.text


def test_diff_with_a_previous_version(client, settings):
    client.post("/codelists/freeze", data=STROKE_FORM)
    wider = {
        **STROKE_FORM,
        "version": "2.0",
        "rules-c-id": "infarctus_myocarde",
        "rules-c-vocabulary": "CIM10",
        "rules-c-kind": "codes",
        "rules-c-values": "I21",
    }
    client.post("/codelists/freeze", data=wider)
    old = load_codelist(settings.codelist_path("stroke_test-v1.0"))
    new = load_codelist(settings.codelist_path("stroke_test-v2.0"))
    expected = diff_codelists(old, new)
    assert [c.code for c in expected.added] and not expected.removed
    page = client.get(
        "/codelists/view/stroke_test-v2.0/diff", params={"other": "stroke_test-v1.0"}
    ).text
    added = re.search(r'id="diff-added">(.*?)</table>', page, re.S)[1]
    assert re.findall(r"<code>([^<]+)</code>", added) == [c.code for c in expected.added]
    assert "diff-removed" not in page


def test_builder_prefills_from_library_and_add_to_list(client):
    page = client.get("/codelists/new", params={"base": "stroke", "add": "CIM10:G45"}).text
    assert 'value="stroke"' in page and "G45" in page
    bad = client.get("/codelists/new", params={"base": "../../etc/passwd"})
    assert bad.status_code == 400


def test_usage_and_orphans_are_masked(client):
    """``drugs`` (DRUG as CIP13 and as CIP7, both on every line) is dispensed to 25 + 5 + 4
    persons in 2019, in 3 × 25 + 2 × 5 + 3 × 4 lines, by design."""
    page = client.get("/codelists/view/drugs/usage", params={"data": "synth"}).text
    table = re.search(r'id="usage-table">(.*?)</table>', page, re.S)[1]
    persons = TREATED_ADULTS + TWO_DISPENSINGS + TREATED_MINORS
    records = 3 * TREATED_ADULTS + 2 * TWO_DISPENSINGS + 3 * TREATED_MINORS
    rows = re.findall(
        r"<tr><td>(\w+)</td>.*?<td>(\d+)</td>.*?>([^<]*)</td>.*?>([^<]*)</td></tr>", table
    )
    assert rows == [(v, "2019", str(records), str(persons)) for v in ("CIP13", "CIP7")]


def test_usage_masks_small_counts(client, settings):
    """``other`` holds OTHER_DRUG, dispensed to 7 persons: masked (one label)."""
    page = client.get("/codelists/view/other/usage", params={"data": "synth"}).text
    table = re.search(r'id="usage-table">(.*?)</table>', page, re.S)[1]
    assert re.findall(r'<td class="num">([^<]*)</td>', table) == ["masqué", "masqué"]
    assert ">7<" not in table and ">21<" not in table


def test_every_rule_field_reaches_the_spec(client, sample_home):
    form = {
        **STROKE_FORM,
        "rules-a-kind": "terms",
        "rules-a-values": "infarctus cerebral",
        "rules-a-exclude_words": "thrombose",
        "rules-a-allow_typos": "on",
        "rules-a-descendants": "no",
        "exclude_codes": "I639",
    }
    page = client.post("/codelists/preview", data=form).text
    yaml_text = html.unescape(re.search(r'<pre id="spec-yaml">(.*?)</pre>', page, re.S)[1])
    spec = parse_spec(yaml_text, CodelistSpec)
    rule = spec.rules[0]
    assert (rule.terms, rule.exclude_words, rule.allow_typos, rule.include_descendants) == (
        ["infarctus cerebral"],
        ["thrombose"],
        True,
        False,
    )
    assert spec.exclude.codes == ["I639"]
    expected = build_codelist(spec, store=store_path(sample_home))
    assert re.findall(r'<tr data-code="([^"]+)">', page) == [
        f"{e.vocabulary}:{e.code}" for e in expected.entries
    ]
