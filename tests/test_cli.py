"""The CLI as a user runs it: a separate process, JSON on stdout, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run(home, *args, check=True):
    env = {**os.environ, "SNDSKIT_HOME": str(home), "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "sndskit", *args], capture_output=True, text=True, env=env
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_join_json_gives_the_path_with_its_columns(real_home):
    out = json.loads(run(real_home, "catalog", "join", "ER_PHA_F", "IR_BEN_R", "--json").stdout)
    assert [(h["left"], h["right"]) for h in out["hops"]] == [
        ("ER_PHA_F", "ER_PRS_F"),
        ("ER_PRS_F", "IR_BEN_R"),
    ]
    assert len(out["hops"][0]["on"]) == 9
    assert out["hops"][1]["on"] == [
        {"left": "BEN_NIR_PSA", "right": "BEN_NIR_PSA"},
        {"left": "BEN_RNG_GEM", "right": "BEN_RNG_GEM"},
    ]
    assert out["sql"].startswith("SELECT * FROM ER_PHA_F")


def test_describe_json_has_the_documented_keys(real_home):
    out = json.loads(run(real_home, "catalog", "describe", "T_MCO19B", "--json").stdout)
    assert (out["name"], out["template"], out["year"]) == ("T_MCO19B", "T_MCOaaB", 2019)
    assert {"name", "title", "product", "fields", "primary_key", "foreign_keys"} <= set(out)
    assert out["primary_key"] == ["ETA_NUM", "RSA_NUM"]
    dp = next(f for f in out["fields"] if f["name"] == "DGN_PAL")
    assert {"name", "type", "description", "nomenclature"} <= set(dp)
    assert dp["nomenclature"] == "MS_CIM_V"


def test_tables_search_and_nomenclature_json(real_home):
    tables = json.loads(run(real_home, "catalog", "tables", "--product", "DCIR", "--json").stdout)
    assert len(tables) == 16 and all(t["product"] == "DCIR" for t in tables)
    hits = json.loads(run(real_home, "catalog", "search", "date de décès", "--json").stdout)
    assert any(h["field"] == "BEN_DCD_DTE" for h in hits)
    nom = json.loads(run(real_home, "catalog", "nomenclature", "IR_ALD_V", "--json").stdout)
    assert nom["total_rows"] == 34 and nom["code_column"] == "ALD_030_COD"


def test_unknown_table_is_one_clear_line_with_suggestions(real_home):
    result = run(real_home, "catalog", "describe", "ER_PHA", check=False)
    assert result.returncode == 2
    assert "unknown table 'ER_PHA'" in result.stderr and "ER_PHA_F" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_json_and_missing_store(real_home, tmp_path):
    status = json.loads(run(real_home, "data", "status", "--json").stdout)
    assert status["exists"] and status["manifest"]["counts"]["tables"] == 188
    missing = run(tmp_path / "nothing", "catalog", "tables", check=False)
    assert missing.returncode == 2 and "sndskit data import" in missing.stderr


def test_import_from_a_missing_folder_fails_cleanly(tmp_path):
    result = run(tmp_path / "h", "data", "import", "--from", str(tmp_path / "nope"), check=False)
    assert result.returncode == 2 and "not a reference-data folder" in result.stderr
    assert not (tmp_path / "h" / "store.duckdb").exists()


def test_fetch_from_a_file_mirror_then_import_the_fetched_folder(tmp_path):
    """End to end offline: a mirror holding the schema-snds archive (built from the sample)."""
    import tarfile

    from sndskit.config import builtin_sample_dir

    mirror = tmp_path / "mirror" / "schema-snds"
    mirror.mkdir(parents=True)
    with tarfile.open(mirror / "schema-snds-master.tar.gz", "w:gz") as archive:
        for part in ("schemas", "nomenclatures"):
            archive.add(builtin_sample_dir() / "schema-snds" / part, f"schema-snds-master/{part}")
    dest = tmp_path / "fetched"
    home = tmp_path / "home"
    mirror_url = (tmp_path / "mirror").as_uri()
    run(home, "data", "fetch", "--only", "schema-snds", "--mirror", mirror_url, "--dest", str(dest))
    record = json.loads((dest / "fetch-record.json").read_text())
    assert [f["source"] for f in record["files"]] == ["schema-snds"]
    run(home, "data", "import", "--from", str(dest))
    status = json.loads(run(home, "data", "status", "--json").stdout)
    assert status["manifest"]["source"] == str(dest)
    assert status["manifest"]["fetch_record"] == str(dest / "fetch-record.json")
    assert status["manifest"]["counts"]["tables"] == len(
        list((builtin_sample_dir() / "schema-snds" / "schemas").rglob("*.json"))
    )


def test_demo_path_codelist_synth_cohort_stats(real_home, tmp_path):
    """The commands `make demo` chains, end to end on a small synthetic population."""
    from importlib import resources

    examples = Path(str(resources.files("sndskit") / "resources" / "cohorts" / "examples"))
    run(real_home, "codelist", "build", "stroke", "-o", str(tmp_path / "stroke.json"))
    sql = run(
        real_home,
        "codelist",
        "export",
        str(tmp_path / "stroke.json"),
        "--format",
        "sql",
        "--dialect",
        "spark",
    ).stdout
    assert "DGN_PAL IN ('I60'" in sql
    data = tmp_path / "data"
    run(
        real_home,
        "synth",
        "generate",
        "--patients",
        "3000",
        "--start",
        "2019",
        "--end",
        "2022",
        "--seed",
        "3",
        "--out",
        str(data),
        "--workers",
        "1",
    )
    usage = json.loads(
        run(
            real_home,
            "codelist",
            "usage",
            str(tmp_path / "stroke.json"),
            "--data",
            str(data),
            "--json",
        ).stdout
    )
    assert all(r["persons"] is None or r["persons"] > 10 for r in usage)
    out = tmp_path / "t2d"
    run(
        real_home,
        "cohort",
        "run",
        str(examples / "t2d_treated.yaml"),
        "--data",
        str(data),
        "--out",
        str(out),
    )
    run(real_home, "cohort", "stats", str(out), "--data", str(data))
    assert {p.name for p in (out / "private").iterdir()} == {"cohort.parquet", "tables.json"}
    assert {
        "attrition.csv",
        "counts.csv",
        "manifest.json",
        "rates.csv",
        "rates_by_year_sex.csv",
        "attrition.png",
        "rates.png",
        "EXPORT.md",
    } == {p.name for p in (out / "export").iterdir()}
    described = run(real_home, "cohort", "describe", str(examples / "acs_hospitalised.yaml")).stdout
    assert "Période d'étude" in described
    bad = run(
        real_home,
        "cohort",
        "run",
        str(examples / "t2d_treated.yaml"),
        "--data",
        str(tmp_path / "missing"),
        "--out",
        str(tmp_path / "x"),
        check=False,
    )
    assert bad.returncode == 2 and "data folder not found" in bad.stderr
