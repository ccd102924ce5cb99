"""`sndskit synth …` as a user runs it (the typer app of sndskit.cli.synth)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from sndskit.cli.synth import app
from sndskit.errors import SndskitError
from sndskit.synthetic import TrapRates


def _env(home) -> dict[str, str]:
    return {"SNDSKIT_HOME": str(home), "COLUMNS": "200"}


def test_generate_writes_the_dataset_and_reports_it(tmp_path, synth_home):
    out = tmp_path / "data"
    result = CliRunner().invoke(
        app,
        [
            "generate",
            "--patients",
            "300",
            "--start",
            "2019",
            "--end",
            "2020",
            "--seed",
            "7",
            "--out",
            str(out),
            "--workers",
            "1",
        ],
        env=_env(synth_home),
    )
    assert result.exit_code == 0, result.output
    assert "300 persons, 2019-2020, seed 7" in result.output
    assert "ER_PRS_F" in result.output and "dcir.regularisation" in result.output
    assert (out / "ER_PRS_F" / "part-00000.parquet").exists()
    assert json.loads((out / "truth" / "manifest.json").read_text())["seed"] == 7


def test_generate_json_and_module_selection(tmp_path, synth_home):
    out = tmp_path / "data"
    result = CliRunner().invoke(
        app,
        [
            "generate",
            "--patients",
            "200",
            "--start",
            "2020",
            "--end",
            "2020",
            "--out",
            str(out),
            "--module",
            "t2d",
            "--module",
            "acs",
            "--json",
            "--workers",
            "1",
        ],
        env=_env(synth_home),
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["parameters"]["modules"] == ["t2d", "acs"]
    assert set(report["modules"]) == {"t2d", "acs"}


def test_config_file_and_bad_values(tmp_path, synth_home):
    config = tmp_path / "synth.yaml"
    config.write_text("traps:\n  information_line: 0.2\n", encoding="utf-8")
    out = tmp_path / "data"
    ok = CliRunner().invoke(
        app,
        [
            "generate",
            "--patients",
            "100",
            "--start",
            "2020",
            "--end",
            "2020",
            "--out",
            str(out),
            "--config",
            str(config),
            "--json",
            "--workers",
            "1",
        ],
        env=_env(synth_home),
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["parameters"]["traps"]["information_line"] == 0.2
    bad = CliRunner().invoke(
        app,
        [
            "generate",
            "--patients",
            "100",
            "--start",
            "2020",
            "--end",
            "2020",
            "--out",
            str(tmp_path / "x"),
            "--format",
            "xlsx",
        ],
        env=_env(synth_home),
    )
    assert isinstance(bad.exception, SndskitError)
    assert bad.exception.field == "format" and bad.exception.allowed == ["parquet", "csv"]
    assert not (tmp_path / "x").exists()


def test_traps_lists_every_rate_parameter():
    result = CliRunner().invoke(app, ["traps", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    rates = {r["parameter"] for r in rows if r["kind"] == "rate"}
    assert rates == {f"traps.{n}" for n in TrapRates.model_fields}
    layout = {r["parameter"] for r in rows if r["kind"] == "layout"}
    assert {"dcir_yearly_tables", "nabm_as_integer", "archive_beneficiaries"} <= layout
    assert all(r["meaning"] and r["truth"] for r in rows)
    english = CliRunner().invoke(app, ["traps", "--json", "--lang", "en"])
    meanings = {r["parameter"]: r["meaning"] for r in json.loads(english.output)}
    assert meanings["traps.ald_end_null"].startswith("per open-ended ALD")
    french = {r["parameter"]: r["meaning"] for r in rows}  # French by default
    assert french["traps.ald_end_null"].startswith("par ALD sans date de fin")
    assert set(french) == set(meanings) and all(french[p] != meanings[p] for p in french)


def test_show_summarises_a_dataset_and_its_naive_counts(recent):
    result = CliRunner().invoke(app, ["show", str(recent.dir), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    persons = summary["persons"]
    assert persons["truth (real persons)"] == recent.one(
        "SELECT count(*) FROM truth_persons WHERE NOT fictitious"
    )
    # several pseudonyms per person: counting BEN_NIR_PSA overcounts persons
    assert persons["distinct BEN_NIR_PSA in IR_BEN_R"] > persons["distinct BEN_IDT_ANO in IR_BEN_R"]
    naive = summary["naive_vs_truth"]
    assert naive["ER_PHA_F rows"] > naive["true town drug dispensings (truth/dispensings)"]
    assert set(summary["conditions"]) == set(recent.manifest["modules"])
    text = CliRunner().invoke(app, ["show", str(recent.dir)], env={"COLUMNS": "200"})
    assert "naive count vs truth" in text.output


def test_show_refuses_a_folder_that_is_not_a_dataset(tmp_path):
    result = CliRunner().invoke(app, ["show", str(tmp_path)])
    assert isinstance(result.exception, SndskitError)
