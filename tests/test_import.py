"""`import_reference_data`: sample import, idempotence, and bad input that loses nothing."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from sndskit.catalog import get_catalog, get_nomenclature_values
from sndskit.config import builtin_sample_dir, store_path
from sndskit.errors import SndskitError
from sndskit.refdata.importer import import_reference_data
from sndskit.refdata.status import get_store_status

SAMPLE = builtin_sample_dir()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def sample_copy(tmp_path) -> Path:
    target = tmp_path / "ref"
    shutil.copytree(SAMPLE, target)
    return target


@pytest.fixture
def built_home(tmp_path, sample_copy) -> Path:
    home = tmp_path / "built"
    import_reference_data(sample_copy, home=home)
    return home


def test_sample_import_is_labelled_and_complete(sample_home, sample_catalog):
    files = list((SAMPLE / "schema-snds" / "schemas").rglob("*.json"))
    assert len(sample_catalog.tables) == len(files)
    assert sample_catalog.is_sample
    status = get_store_status(sample_home)
    assert status["manifest"]["is_sample"] is True
    assert json.loads((sample_home / "manifest.json").read_text()) == status["manifest"]


def test_sample_supports_the_key_joins(sample_catalog):
    hops = sample_catalog.find_join_path("ER_PHA_F", "IR_BEN_R")
    assert [h.right for h in hops] == ["ER_PRS_F", "IR_BEN_R"]
    (hop,) = sample_catalog.find_join_path("T_MCO22D", "T_MCO22B")
    assert hop.left_columns == ("ETA_NUM", "RSA_NUM")


def test_default_source_without_shared_data_is_the_sample(tmp_path, monkeypatch):
    monkeypatch.setattr("sndskit.config.shared_data_candidates", lambda: [tmp_path / "none"])
    report = import_reference_data(home=tmp_path / "h")
    assert report.is_sample and Path(report.source) == SAMPLE


def test_reimport_is_idempotent(tmp_path, sample_copy, built_home):
    first = json.loads((built_home / "manifest.json").read_text())
    import_reference_data(sample_copy, home=built_home)
    second = json.loads((built_home / "manifest.json").read_text())
    assert first["sources"] == second["sources"] and first["counts"] == second["counts"]
    assert sorted(p.name for p in built_home.iterdir()) == ["manifest.json", "store.duckdb"]


def test_nomenclature_rows_match_the_csv_and_keep_leading_zeros(tmp_path, sample_copy):
    csv_path = sample_copy / "schema-snds" / "nomenclatures" / "ORAVAL" / "IR_SEX_V.csv"
    csv_path.write_text("SEX_COD;SEX_LIB\n01;MASCULIN\n02;FEMININ\n", encoding="utf-8")
    import_reference_data(sample_copy, home=tmp_path / "h")
    info, columns, rows = get_nomenclature_values("ir_sex_v", path=store_path(tmp_path / "h"))
    assert columns == ["SEX_COD", "SEX_LIB"] and info.rows == 2
    assert rows == [("01", "MASCULIN"), ("02", "FEMININ")]


def _assert_store_unchanged(home: Path, before: dict[str, str]) -> None:
    assert {p.name: _sha(p) for p in home.iterdir()} == before
    assert get_catalog(store_path(home)).tables  # still readable


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (
            lambda p: p.write_text('{"name": "ER_PHA_F", "fields": [', encoding="utf-8"),
            "not valid JSON",
        ),
        (lambda p: p.write_text('{"name": "ER_PHA_F", "title": "x", "produit": "DCIR"}'), "fields"),
        (lambda p: p.write_text("[1, 2]"), "JSON object"),
    ],
)
def test_corrupt_schema_names_the_file_and_keeps_the_old_store(
    sample_copy, built_home, breakage, expected
):
    before = {p.name: _sha(p) for p in built_home.iterdir()}
    broken = sample_copy / "schema-snds" / "schemas" / "DCIR" / "ER_PHA_F.json"
    breakage(broken)
    with pytest.raises(SndskitError) as info:
        import_reference_data(sample_copy, home=built_home)
    assert str(broken) in str(info.value) and expected in str(info.value)
    _assert_store_unchanged(built_home, before)


def test_foreign_key_to_an_unknown_table_is_reported(sample_copy, built_home):
    path = sample_copy / "schema-snds" / "schemas" / "DCIR" / "ER_PHA_F.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["foreignKeys"][0]["reference"]["resource"] = "ER_PRS_X"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SndskitError) as info:
        import_reference_data(sample_copy, home=built_home)
    assert info.value.file == str(path) and info.value.field == "foreignKeys"
    assert "ER_PRS_F" in info.value.allowed


def test_missing_schema_file_is_an_error_naming_the_folder(sample_copy, built_home):
    before = {p.name: _sha(p) for p in built_home.iterdir()}
    shutil.rmtree(sample_copy / "schema-snds" / "schemas")
    with pytest.raises(SndskitError, match="not a reference-data folder") as info:
        import_reference_data(sample_copy, home=built_home)
    assert str(sample_copy) in str(info.value)
    _assert_store_unchanged(built_home, before)


def test_nomenclature_csv_without_its_code_column_is_reported(sample_copy, built_home):
    before = {p.name: _sha(p) for p in built_home.iterdir()}
    csv_path = sample_copy / "schema-snds" / "nomenclatures" / "ORAVAL" / "IR_ALD_V.csv"
    csv_path.write_text("WRONG;ALD_030_LIB\n1;x\n", encoding="utf-8")
    with pytest.raises(SndskitError, match="ALD_030_COD") as info:
        import_reference_data(sample_copy, home=built_home)
    assert info.value.file == str(csv_path) and "WRONG" in info.value.allowed
    _assert_store_unchanged(built_home, before)


def test_no_store_gives_a_hint(tmp_path):
    with pytest.raises(SndskitError, match="sndskit data import"):
        get_catalog(store_path(tmp_path / "empty"))
    assert get_store_status(tmp_path / "empty")["exists"] is False
