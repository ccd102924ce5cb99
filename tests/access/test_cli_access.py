"""The access and registry commands as a user runs them (separate processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from docx import Document

from tests.access.conftest import STUDY


def _run(home, *args, code=0):
    env = {**os.environ, "SNDSKIT_HOME": str(home), "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "sndskit", *map(str, args)], capture_output=True, text=True, env=env
    )
    assert result.returncode == code, result.stderr + result.stdout
    return result


def test_edb_and_dossier_commands_write_their_files(store_home, tmp_path):
    _run(store_home, "access", "edb", STUDY, "--out", tmp_path, "--lang", "en")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "codelists",
        "edb.docx",
        "edb.html",
        "edb.md",
        "edb.xlsx",
        "edb_variables.csv",
    ]
    assert sorted(p.name for p in (tmp_path / "codelists").iterdir()) == [
        "acute_coronary_syndrome.csv",
        "t2d_drugs.csv",
    ]
    assert (tmp_path / "edb.md").read_text(encoding="utf-8").startswith("# Expression of needs")
    heading = Document(str(tmp_path / "edb.docx")).paragraphs[0].text
    assert heading.startswith("Expression of needs")
    _run(store_home, "access", "dossier", STUDY, "--out", tmp_path / "d")
    assert (tmp_path / "d" / "pieces.csv").read_text(encoding="utf-8").count("unchecked") == 9
    bad = _run(store_home, "access", "edb", STUDY, "--out", tmp_path, "--lang", "de", code=2)
    assert "allowed: fr, en" in bad.stderr


def test_registry_commands(store_home, tmp_path):
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    added = json.loads(
        _run(store_home, "registry", "add", STUDY, "--url", url, "--by", "desk").stdout
    )
    # from the study and its EDB: components of the two cohorts, data from 2020, filed 2025
    assert added["reference"] == "DEMO-2025-001"
    assert added["components"] == ["BENEFICIAIRE", "DCIR", "PMSI MCO"]
    assert (added["depth_years"], added["filed_on"]) == (5, "2025-01-15")
    _run(
        store_home,
        "registry",
        "update",
        "DEMO-2025-001",
        "--url",
        url,
        "--by",
        "alice",
        "--set",
        "cesrees_outcome=favourable",
        "--set",
        "cesrees_opinion_on=2025-03-04",
        "--add",
        "publications=doi:10/abc",
    )
    refused = _run(
        store_home,
        "registry",
        "update",
        "DEMO-2025-001",
        "--url",
        url,
        "--set",
        "cesrees_outcome=maybe",
        code=2,
    )
    assert "field 'cesrees_outcome'" in refused.stderr
    stale = _run(
        store_home,
        "registry",
        "update",
        "DEMO-2025-001",
        "--url",
        url,
        "--set",
        "cnil_number=DR-1",
        "--expected-version",
        "1",
        code=2,
    )
    assert "changed meanwhile" in stale.stderr
    shown = json.loads(
        _run(store_home, "registry", "show", "DEMO-2025-001", "--url", url, "--json").stdout
    )
    assert shown["project"]["publications"] == ["doi:10/abc"]
    assert shown["project"]["version"] == 2
    assert [(h["changed_by"], h["field"]) for h in shown["history"]] == [
        ("desk", "*"),
        ("alice", "cesrees_opinion_on"),
        ("alice", "cesrees_outcome"),
        ("alice", "publications"),
    ]
    export = tmp_path / "directory.xlsx"
    _run(store_home, "registry", "export", "--url", url, "--format", "xlsx", "--out", export)
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    _run(store_home, "registry", "import", export, "--url", other, "--by", "import")
    listed = json.loads(_run(store_home, "registry", "list", "--url", other, "--json").stdout)
    assert [p["reference"] for p in listed] == ["DEMO-2025-001"]
    assert listed[0]["cesrees_outcome"] == "favourable"
