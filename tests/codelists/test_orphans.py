"""Orphan candidates are related codes only (issue #19 item 12): checked on the real
terminology and on synthetic data whose truth says which codes belong to which condition."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from sndskit.codelists.diagnostics import find_orphans
from sndskit.codelists.model import CodeEntry, Codelist, Provenance
from sndskit.codelists.orphans import MAX_FAMILY, related_codes
from sndskit.config import store_path
from sndskit.engines.datasource import open_data
from tests.conftest import NOMENCLATURE_ROOT, SHARED_DATA

pytestmark = pytest.mark.shared_data
WHY = Provenance(rule="r", via="code")


def _list(keys) -> Codelist:
    entries = [CodeEntry(vocabulary=v, code=c, label="", found_from=[WHY]) for v, c in keys]
    return Codelist(name="l", description="x", built_at="2026-01-01", entries=entries)


@pytest.fixture(scope="module")
def store(real_home):
    return store_path(real_home)


def _cim10_children(parent: str) -> set[str]:
    """Independent read of the ATIH file: codes of a category (no dot, 4+ chars)."""
    import csv

    with (NOMENCLATURE_ROOT / "ORAVAL" / "MS_CIM_V.csv").open(encoding="utf-8") as handle:
        return {
            r["CIM_COD"]
            for r in csv.DictReader(handle, delimiter=";")
            if r["CIM_COD"].startswith(parent) and len(r["CIM_COD"]) == len(parent) + 1
        }


def test_atrial_fibrillation_brings_its_category_not_obesity_or_heart_failure(store):
    related = related_codes(_list([("CIM10", "I480")]), "CIM10", store=store)
    assert _cim10_children("I48") - {"I480"} <= set(related)
    assert "same parent (I48)" in related["I481"]
    # The noise: obesity "close to" atrial fibrillation; and the 23 categories of
    # the block I30-I52 are not one family (more than MAX_FAMILY members).
    assert not any(code.startswith(("E66", "I50", "I42")) for code in related)


def test_a_small_block_is_a_family(store):
    related = related_codes(_list([("CIM10", "E11")]), "CIM10", store=store)
    assert {"E10", "E12", "E13", "E14"} <= set(related)  # E10-E14: 5 categories
    assert MAX_FAMILY >= 5
    assert not any(code.startswith("E66") for code in related)


def _bdpm_boxes(substance: str) -> set[str]:
    """CIP13 of the products holding ``substance`` (BDPM, read here independently)."""
    bdpm = SHARED_DATA / "bdpm"
    with (bdpm / "CIS_COMPO_bdpm.txt").open(encoding="cp1252") as handle:
        products = {
            cols[0]
            for cols in (line.split("\t") for line in handle)
            if substance in cols[3].upper() and cols[6] == "SA"
        }
    with (bdpm / "CIS_CIP_bdpm.txt").open(encoding="cp1252") as handle:
        return {
            cols[6]
            for cols in (line.rstrip("\r\n").split("\t") for line in handle)
            if cols[0] in products
        }


def test_eliquis_brings_the_other_apixaban_boxes_and_never_paracetamol(store):
    apixaban = sorted(_bdpm_boxes("APIXABAN"))
    listed, rest = apixaban[:1], set(apixaban[1:])
    related = related_codes(_list([("CIP13", c) for c in listed]), "CIP13", store=store)
    assert rest <= set(related)
    assert all("APIXABAN" in related[c] or "B01AF" in related[c] for c in rest)
    assert not set(related) & _bdpm_boxes("PARACETAMOL")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory, real_home):
    out = tmp_path_factory.mktemp("synth") / "data"
    env = {**os.environ, "SNDSKIT_HOME": str(real_home)}
    subprocess.run(
        [sys.executable, "-m", "sndskit", "synth", "generate", "--patients", "3000", "--start",
         "2019", "--end", "2019", "--seed", "5", "--out", str(out), "--workers", "1"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    return out


def _planted(data, condition: str) -> set[tuple[str, str]]:
    """Codes the generator planted for ``condition`` (truth files, not the tool)."""
    con = duckdb.connect()
    truth = data / "truth"
    rows = con.execute(
        f"SELECT 'CIM10', DGN_PAL FROM read_parquet('{truth}/stays/*.parquet') "
        "WHERE condition = $c AND DGN_PAL IS NOT NULL "
        f"UNION SELECT 'CIM10', icd10 FROM read_parquet('{truth}/conditions/*.parquet') "
        "WHERE condition = $c "
        f"UNION SELECT 'CIP13', code FROM read_parquet('{truth}/dispensings/*.parquet') "
        "WHERE condition = $c AND table_name = 'ER_PHA_F'",
        {"c": condition},
    ).fetchall()
    return set(rows)


def test_orphans_on_synthetic_truth_are_mostly_the_conditions_codes(synthetic, store):
    """Seed: one planted diagnosis and one drug's boxes per condition; the proposals must
    be codes planted for that condition (measured precision in BENCHMARKS.md)."""
    folder = open_data(synthetic)
    proposed = relevant = 0
    for condition in ("t2d", "stroke", "heart_failure", "depression"):
        planted = _planted(synthetic, condition)
        diagnoses = sorted(c for v, c in planted if v == "CIM10")
        boxes = sorted(c for v, c in planted if v == "CIP13")
        seed = [("CIM10", diagnoses[0]), ("CIP13", boxes[0])]
        orphans = find_orphans(
            _list(seed), folder, store=store, limit=10_000, threshold=1, unsafe_threshold=True
        )
        keys = {(o["vocabulary"], o["code"]) for o in orphans}
        assert not keys & set(seed)
        proposed += len(keys)
        relevant += len(keys & planted)
    assert proposed >= 5
    assert relevant / proposed >= 0.75


def test_cli_writes_orphans_and_usage_tables_masked(synthetic, real_home, tmp_path, monkeypatch):
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from sndskit.cli import app
    from sndskit.codelists.model import save_codelist

    monkeypatch.setenv("SNDSKIT_HOME", str(real_home))
    planted = _planted(synthetic, "t2d")
    seed = [("CIM10", min(c for v, c in planted if v == "CIM10"))]
    path = save_codelist(_list(seed), tmp_path / "t2d.json")
    runner = CliRunner()
    xlsx = tmp_path / "orphans.xlsx"
    args = ["codelist", "orphans", str(path), "--data", str(synthetic), "-o", str(xlsx)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = [[c.value for c in r] for r in load_workbook(xlsx).active.iter_rows()]
    assert rows[0] == ["vocabulary", "code", "label", "reason", "records", "persons"]
    shown = [r[5] for r in rows[1:]]
    assert shown and all(v == "masked" or int(v) > 10 for v in shown)
    # usage publishes an audited export folder (export/usage.csv, manifest, EXPORT.md)
    out = tmp_path / "usage"
    args = ["codelist", "usage", str(path), "--data", str(synthetic), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    header = (out / "export" / "usage.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "vocabulary,code,label,year,records,persons,threshold"
