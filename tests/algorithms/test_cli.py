"""`sndskit algo …` as a user runs it (separate process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.shared_data


def run(home, *args, check=True):
    env = {**os.environ, "SNDSKIT_HOME": str(home), "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "sndskit", "algo", *args], capture_output=True, text=True, env=env
    )
    if check:
        assert result.returncode == 0, result.stderr + result.stdout
    return result


def test_list_show_and_unknown_algorithm(real_home):
    rows = json.loads(run(real_home, "list", "--json").stdout)
    assert {r["id"] for r in rows} >= {"t2d_treated", "heart_failure"}
    assert all(r["title_fr"] and r["title_en"] for r in rows)
    assert run(real_home, "show", "copd", "--lang", "en").stdout.startswith("# COPD")
    failed = run(real_home, "show", "cpod", check=False)
    assert failed.returncode == 2 and "unknown algorithm 'cpod'" in failed.stderr
    assert "copd" in failed.stderr


def test_new_then_lint_then_change_without_bump(real_home, tmp_path):
    root = tmp_path / "catalogue"
    root.mkdir()
    run(real_home, "new", "my_stroke", "--root", str(root))
    folder = root / "my_stroke"
    assert {p.name for p in folder.iterdir()} >= {
        "algorithm.yaml",
        "cohort.yaml",
        "codelists",
        "CHANGELOG.md",
        "README.md",
        "README.en.md",
    }
    assert run(real_home, "lint", "--root", str(root)).returncode == 0
    spec = folder / "cohort.yaml"
    spec.write_text(spec.read_text().replace("roles: [DP]", "roles: [DP, DAS]"))
    failed = run(real_home, "lint", "--root", str(root), check=False)
    assert failed.returncode == 1 and "bump the version" in failed.stdout
    run(
        real_home,
        "bump",
        "my_stroke",
        "minor",
        "--note",
        "DAS ajoutés / DAS added",
        "--root",
        str(root),
    )
    assert "version: 0.2.0" in (folder / "algorithm.yaml").read_text()
    assert (folder / "CHANGELOG.md").read_text().splitlines()[2].startswith("## 0.2.0 (")
    assert run(real_home, "lint", "--root", str(root)).returncode == 0
    again = run(real_home, "new", "my_stroke", "--root", str(root), check=False)
    assert again.returncode == 2 and "folder already exists" in again.stderr


def test_export_boas_and_validate(real_home, synthetic, tmp_path):
    text = run(real_home, "export", "acs_hospitalised", "--format", "boas").stdout
    assert "### Validation" in text and "- **licence** : MPL-2.0" in text
    out = run(
        real_home,
        "validate",
        "stroke_hospitalised",
        "--data",
        str(synthetic),
        "--out",
        str(tmp_path / "run"),
    )
    assert "SYNTHETIC DATA" in out.stdout and "sensitivity" in out.stdout
    assert (tmp_path / "run" / "private" / "persons.parquet").is_file()
    assert (tmp_path / "run" / "export" / "EXPORT.md").is_file()
