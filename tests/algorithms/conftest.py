"""One small synthetic dataset (3,000 persons, 2019-2022) for the whole session, and copies
of catalogue folders that tests may break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sndskit.algorithms import catalogue_root
from sndskit.config import store_path


@pytest.fixture(scope="session")
def synthetic(real_home, tmp_path_factory) -> Path:
    from sndskit.synthetic.generator import generate
    from sndskit.synthetic.spec import GeneratorConfig

    out = tmp_path_factory.mktemp("algo-synthetic") / "data"
    config = GeneratorConfig(
        patients=3000, start_year=2019, end_year=2022, seed=11, chunk_size=3000, part_size=3000
    )
    generate(config, out, store=store_path(real_home), workers=1)
    return out


@pytest.fixture
def folder_copy(tmp_path):
    """A writable copy of a catalogue folder: ``folder_copy("t2d_treated")``."""

    def copy(name: str) -> Path:
        target = tmp_path / "catalogue" / name
        shutil.copytree(catalogue_root() / name, target)
        return target

    return copy
