"""Fixtures of the access tests: the real catalogue store and editable copies of the
example study (its cohort paths made absolute so a copy can live anywhere)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(str(resources.files("sndskit") / "resources"))
STUDY = EXAMPLES / "access" / "examples" / "study.yaml"
COHORTS = EXAMPLES / "cohorts" / "examples"


@pytest.fixture
def store_home(real_home, monkeypatch) -> Path:
    """Code lists and the catalogue come from the real reference data's store."""
    monkeypatch.setenv("SNDSKIT_HOME", str(real_home))
    return real_home


def example_study() -> dict:
    data = yaml.safe_load(STUDY.read_text(encoding="utf-8"))
    for cohort in data["cohorts"]:
        cohort["spec"] = str((STUDY.parent / cohort["spec"]).resolve())
    return data


@pytest.fixture
def write_study(tmp_path, store_home):
    """Write a study dict as YAML in a fresh folder and load it."""
    from sndskit.access.spec import load_study

    def write(data: dict, name: str = "study.yaml"):
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
        return load_study(path)

    return write
