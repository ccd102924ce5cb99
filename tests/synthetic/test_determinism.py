"""Same seed and parameters → byte-identical files, whatever the number of workers."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sndskit.config import store_path
from sndskit.synthetic import build_config, generate

PARAMS = {
    "patients": 600,
    "start_year": 2018,
    "end_year": 2019,
    "chunk_size": 100,
    "part_size": 300,
    "seed": 42,
}


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_whatever_the_workers(tmp_path, synth_home):
    store = store_path(synth_home)
    config = build_config(PARAMS)
    generate(config, tmp_path / "a", store=store, workers=1)
    generate(config, tmp_path / "b", store=store, workers=2)  # two processes, one part each
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert len(a) > 40 and a == b
    assert any(name.endswith("part-00001.parquet") for name in a)


def test_another_seed_gives_other_data(tmp_path, synth_home):
    store = store_path(synth_home)
    generate(build_config(PARAMS), tmp_path / "a", store=store, workers=1)
    generate(build_config({**PARAMS, "seed": 43}), tmp_path / "b", store=store, workers=1)
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert a.keys() == b.keys()
    assert a["ER_PRS_F/part-00000.parquet"] != b["ER_PRS_F/part-00000.parquet"]


def test_more_persons_keep_the_first_chunks(tmp_path, synth_home):
    """A chunk's data depend on its seed and number only: growing the population adds
    persons without changing the first ones (useful to scale a teaching dataset)."""
    store = store_path(synth_home)
    small = {**PARAMS, "patients": 300}
    generate(build_config(small), tmp_path / "a", store=store, workers=1)
    generate(build_config(PARAMS), tmp_path / "b", store=store, workers=1)
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert a["IR_BEN_R/part-00000.parquet"] == b["IR_BEN_R/part-00000.parquet"]
    assert a["ER_PRS_F/part-00000.parquet"] == b["ER_PRS_F/part-00000.parquet"]
