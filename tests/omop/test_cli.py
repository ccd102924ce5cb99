"""`sndskit omop …` end to end with typer's CliRunner: the weekly workflow of the team."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from sndskit.config import store_path
from sndskit.errors import SndskitError

from .conftest import MAPPINGS_FILE, VOCAB_SAMPLE

runner = CliRunner()


def run(*args):
    from sndskit.cli.omop import app

    result = runner.invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture()
def home(real_home, tmp_path, monkeypatch):
    """A copy of the real store in a fresh SNDSKIT_HOME."""
    target = tmp_path / "home"
    target.mkdir()
    shutil.copy(store_path(real_home), store_path(target))
    monkeypatch.setenv("SNDSKIT_HOME", str(target))
    return target


def test_weekly_workflow(home, tmp_path):
    run("vocab", "load", VOCAB_SAMPLE)
    assert "SNOMED" in run("vocab", "info")
    assert "new ids" in run(
        "source-concepts", "--vocab", "CIM10,CCAM", "--out", tmp_path / "athena"
    )
    assert (tmp_path / "athena" / "CONCEPT.csv").exists()
    assert "68 added" in run("mappings", "import", MAPPINGS_FILE, "--format", "usagi")
    run("mappings", "review", "CIM10", "E113", "--status", "FLAGGED", "--reviewer", "bob")
    history = json.loads(run("mappings", "history", "CIM10", "E113", "--json"))
    assert [e["action"] for e in history] == ["create", "update"]
    for fmt in ("usagi", "stcm", "relationship", "sssom"):
        run("mappings", "export", tmp_path / f"out.{fmt}", "--format", fmt)
        assert (tmp_path / f"out.{fmt}").stat().st_size > 100
    suggestions = json.loads(
        run(
            "suggest",
            "--vocab",
            "CIM10",
            "--codes",
            "F32,E66",
            "--top",
            "3",
            "--json",
            "--out",
            tmp_path / "suggest.csv",
        )
    )
    assert {s["source_code"] for s in suggestions} == {"F32"}  # E66 already has a target
    accuracy = json.loads(run("suggest", "--vocab", "CCAM", "--evaluate", "--json"))
    assert accuracy["codes"] == 15
    usage = tmp_path / "usage.csv"
    usage.write_text("vocabulary,code,records\nCIM10,E11,500\nCIM10,F32,300\nCCAM,HMFC004,40\n")
    out = run(
        "quality",
        "--mappings",
        home / "omop" / "mappings.duckdb",
        "--usage",
        usage,
        "--previous",
        MAPPINGS_FILE,
        "--out",
        tmp_path / "q",
    )
    assert "CIM10:" in out and "CCAM:" in out
    report = json.loads((tmp_path / "q" / "quality.json").read_text(encoding="utf-8"))
    assert report["drift"]["status_changes"] == {"UNCHECKED→FLAGGED": 1}
    assert report["drift"]["removed"] == 1  # E113 flagged: no longer usable
    past = run(
        "quality",
        "--mappings",
        home / "omop" / "mappings.duckdb",
        "--previous-as-of",
        "2000-01-01",
        "--out",
        tmp_path / "q2",
    )
    assert "since last version" in past


def test_errors_are_sndskit_errors(home, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("sourceCode,mappingStatus,conceptId,ADD_INFO:sourceVocabulary\nE11,OK,1,CIM10\n")
    with pytest.raises(SndskitError, match=r"bad.csv:2: field 'mappingStatus'.*allowed: APPROVED"):
        run("mappings", "import", bad)
    with pytest.raises(SndskitError, match="allowed: usagi, stcm, relationship, sssom"):
        run("mappings", "import", bad, "--format", "excel")
    with pytest.raises(SndskitError, match="no OMOP vocabulary database"):
        run("vocab", "info")
