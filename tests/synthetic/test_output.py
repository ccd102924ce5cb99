"""The output folder: documented layout, CSV variant, and atomic replacement."""

from __future__ import annotations

import csv
import json

import pytest

from sndskit.config import store_path
from sndskit.errors import SndskitError
from sndskit.synthetic import build_config, generate
from sndskit.synthetic import generator as generator_module

SMALL = {
    "patients": 200,
    "start_year": 2020,
    "end_year": 2020,
    "seed": 1,
    "chunk_size": 100,
    "part_size": 100,
}


def test_layout_is_one_folder_per_table_and_one_file_per_part(tmp_path, synth_home):
    out = tmp_path / "data"
    report = generate(build_config(SMALL), out, store=store_path(synth_home), workers=1)
    tables = sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != "truth")
    assert "ER_PRS_F" in tables and "T_MCO20B" in tables
    for name in tables:  # every table has one file per part, even an empty one
        assert sorted(p.name for p in (out / name).iterdir()) == [
            "part-00000.parquet",
            "part-00001.parquet",
        ]
    truth = sorted(p.name for p in (out / "truth").iterdir())
    assert truth == [
        "ald",
        "ald_in_force",
        "biology",
        "conditions",
        "consultations",
        "deaths",
        "dispensings",
        "exposures",
        "hospital_drugs",
        "identities",
        "manifest.json",
        "outpatient_care",
        "persons",
        "procedures",
        "rehabilitation_stays",
        "stays",
        "traps_ald",
        "traps_dcir",
        "traps_persons",
        "traps_pmsi",
    ]
    manifest = json.loads((out / "truth" / "manifest.json").read_text())
    assert manifest == report.manifest and manifest["layout"]["parts"] == 2
    assert not list(tmp_path.glob(".data.staging*"))


def test_csv_output_is_semicolon_separated_with_a_header(tmp_path, synth_home):
    out = tmp_path / "data"
    generate(
        build_config({**SMALL, "format": "csv", "part_size": 200}),
        out,
        store=store_path(synth_home),
        workers=1,
    )
    path = out / "IR_BEN_R" / "part-00000.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[0][:2] == ["BEN_NIR_PSA", "BEN_RNG_GEM"]
    assert len(rows) > 200  # header + beneficiaries (some have several identities)
    assert (out / "truth" / "persons" / "part-00000.csv").exists()


def test_a_failed_run_leaves_the_previous_dataset_untouched(tmp_path, synth_home, monkeypatch):
    out = tmp_path / "data"
    generate(build_config(SMALL), out, store=store_path(synth_home), workers=1)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    calls = {"n": 0}
    real = generator_module.generate_chunk

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # fail half-way, after a chunk has been written
            raise RuntimeError("disk full (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(generator_module, "generate_chunk", failing)
    with pytest.raises(RuntimeError, match="simulated"):
        generate(build_config({**SMALL, "seed": 2}), out, store=store_path(synth_home), workers=1)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert not list(tmp_path.glob(".data.staging*"))  # no half dataset left behind


def test_a_successful_run_replaces_the_previous_dataset(tmp_path, synth_home):
    out = tmp_path / "data"
    generate(build_config(SMALL), out, store=store_path(synth_home), workers=1)
    (out / "stale.txt").write_text("left by an older run")
    generate(build_config({**SMALL, "seed": 9}), out, store=store_path(synth_home), workers=1)
    assert not (out / "stale.txt").exists() and (out / "ER_PRS_F").is_dir()


def test_a_folder_that_is_not_a_dataset_is_never_replaced(tmp_path, synth_home):
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(SndskitError, match="refusing to replace"):
        generate(build_config(SMALL), out, store=store_path(synth_home), workers=1)
    assert (out / "thesis.tex").read_text() == "precious"
    assert not list(tmp_path.glob(".documents.staging*"))
