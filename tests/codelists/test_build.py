"""Resolution, provenance, exports, round trips and diff on the real terminology store."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest

from sndskit.codelists.diff import diff_codelists, drift
from sndskit.codelists.export import export_codelist, import_codelist
from sndskit.codelists.library import list_library
from sndskit.codelists.model import load_codelist, save_codelist
from sndskit.codelists.resolve import build_codelist
from sndskit.codelists.spec import CodelistSpec
from sndskit.config import store_path
from sndskit.errors import SndskitError
from sndskit.specs import parse_spec
from tests.conftest import NOMENCLATURE_ROOT, SHARED_DATA

pytestmark = pytest.mark.shared_data

SPEC = """\
name: t2d_metformin
description: Type 2 diabetes treated by metformin
author: test
vocabularies: [CIM10, CIP13, CIP7]
rules:
  - id: t2d
    vocabulary: CIM10
    patterns: ["E11*"]
  - id: metformin
    vocabulary: SUBSTANCE
    terms: [metformine]
exclude:
  codes: [E1100]
"""


@pytest.fixture(scope="module")
def store(real_home):
    return store_path(real_home)


@pytest.fixture(scope="module")
def codelist(store):
    return build_codelist(parse_spec(SPEC, CodelistSpec), store=store)


def _cim10(prefix):
    with (NOMENCLATURE_ROOT / "ORAVAL" / "MS_CIM_V.csv").open(encoding="utf-8") as handle:
        return {
            r["CIM_COD"]
            for r in csv.DictReader(handle, delimiter=";")
            if r["CIM_COD"].startswith(prefix) and r["TEC_COL"] == "0"
        }


def _metformin_boxes() -> set[str]:
    """Independent read of BDPM: boxes of products with a METFORMINE active substance."""
    bdpm = SHARED_DATA / "bdpm"
    with (bdpm / "CIS_COMPO_bdpm.txt").open(encoding="cp1252") as handle:
        products = {
            line.split("\t")[0]
            for line in handle
            if "METFORMINE" in line.split("\t")[3].upper() and line.split("\t")[6] == "SA"
        }
    with (bdpm / "CIS_CIP_bdpm.txt").open(encoding="cp1252") as handle:
        return {
            cols[6]
            for cols in (line.rstrip("\r\n").split("\t") for line in handle)
            if cols[0] in products
        }


def test_diagnoses_follow_the_pattern_minus_the_exclusion(codelist):
    got = set(codelist.codes("CIM10"))
    assert got == _cim10("E11") - {"E1100"}
    assert [e.code for e in codelist.excluded] == ["E1100"]
    assert "excluded code E1100" in codelist.excluded[0].reason


def test_drug_rule_resolves_to_the_boxes_dcir_contains(codelist):
    boxes = set(codelist.codes("CIP13"))
    assert boxes == _metformin_boxes()
    assert all(len(c) == 13 and c.startswith("3400") for c in boxes)  # primer §5
    assert len(codelist.codes("CIP7")) == len(boxes)  # each box has its CIP7 (same box)
    assert not codelist.codes("SUBSTANCE")  # a bridge, not kept: not in vocabularies


def test_every_code_says_why(codelist):
    e11 = next(e for e in codelist.entries if e.code == "E11")
    assert [(p.rule, p.via, p.detail) for p in e11.found_from] == [("t2d", "pattern", "E11*")]
    box = next(e for e in codelist.entries if e.vocabulary == "CIP13")
    (why,) = box.found_from
    assert why.rule == "metformin" and why.via == "relation"
    assert "CIS_HAS_SUBSTANCE" in why.detail and "CIP13_BOX_OF_CIS" in why.detail
    assert codelist.terminology["CIM10"] and codelist.store["sha256:schema-snds"]


def test_terms_with_exclusion_words(store):
    spec = parse_spec(
        """
name: diabetes_terms
description: x
vocabularies: [CIM10]
include_descendants: false
rules:
  - id: diabete
    vocabulary: CIM10
    terms: ["diabète sucré"]
    exclude_words: [grossesse]
""",
        CodelistSpec,
    )
    built = build_codelist(spec, store=store)
    labels = [e.label.lower() for e in built.entries]
    assert labels and all("diab" in label for label in labels)
    assert not any("grossesse" in label for label in labels)
    assert {p.via for e in built.entries for p in e.found_from} <= {
        "keyword",
        "synonym",
        "abbreviation",
    }


def test_save_load_and_drift_free_rebuild(tmp_path, codelist, store):
    path = save_codelist(codelist, tmp_path / "list.json")
    assert load_codelist(path) == codelist
    assert drift(load_codelist(path), store=store).unchanged


@pytest.mark.parametrize("fmt", ["csv", "atlas"])
def test_export_then_import_gives_the_same_codes(tmp_path, codelist, fmt):
    path = tmp_path / f"list.{fmt}"
    path.write_text(export_codelist(codelist, fmt), encoding="utf-8")
    back = import_codelist(path)
    assert [e.key for e in back.entries] == [e.key for e in codelist.entries]
    assert [e.label for e in back.entries] == [e.label for e in codelist.entries]
    if fmt == "atlas":
        assert [e.code for e in back.excluded] == ["E1100"]


def test_atlas_layout(codelist):
    items = json.loads(export_codelist(codelist, "atlas"))["items"]
    assert {"concept", "isExcluded", "includeDescendants", "includeMapped"} <= set(items[0])
    assert sum(i["isExcluded"] for i in items) == 1


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_sql_export_selects_exactly_the_listed_codes(codelist, dialect):
    con = duckdb.connect()
    con.execute("CREATE TABLE t (DGN_PAL VARCHAR)")
    con.execute("INSERT INTO t SELECT unnest(?)", [["E11", "E1100", "E119", "I21", "E11'--"]])
    sql = export_codelist(codelist, "sql", dialect=dialect).split("\n\n")[0]
    predicate = sql.split("\n", 1)[1]
    got = {r[0] for r in con.execute(f"SELECT DGN_PAL FROM t WHERE {predicate}").fetchall()}
    assert got == {"E11", "E119"}


def test_markdown_annex_has_one_row_per_code(codelist):
    table = [
        line
        for line in export_codelist(codelist, "markdown").splitlines()
        if line.startswith("| CIM10")
    ]
    assert len(table) == len(codelist.codes("CIM10"))


def test_diff_reports_added_and_removed_with_reasons(store, codelist):
    narrower = build_codelist(
        parse_spec(SPEC.replace('"E11*"', '"E119*"'), CodelistSpec), store=store
    )
    diff = diff_codelists(codelist, narrower)
    removed = {c.code for c in diff.removed}
    assert removed == {c for c in codelist.codes("CIM10") if not c.startswith("E119")}
    assert all("t2d:pattern" in c.reason for c in diff.removed)
    back = diff_codelists(narrower, codelist)
    assert {c.code for c in back.added} == removed


def test_import_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("vocabulary,code\nCIM10,E11\nCIM99,E12\n", encoding="utf-8")
    with pytest.raises(SndskitError) as info:
        import_codelist(path)
    assert info.value.line == 3 and info.value.field == "vocabulary"
    assert "CIM10" in info.value.allowed


def test_the_library_ships_at_least_ten_sourced_lists_that_all_resolve(store):
    specs = list_library()
    assert len(specs) >= 10
    for spec in specs:
        assert spec.source and spec.description
        built = build_codelist(spec, store=store)
        assert built.entries, spec.name
        assert not built.warnings, (spec.name, built.warnings)


def test_csv_export_columns(codelist):
    rows = list(csv.DictReader(io.StringIO(export_codelist(codelist, "csv"))))
    assert len(rows) == len(codelist.entries)
    assert {"vocabulary", "code", "label", "found_from"} <= set(rows[0])
