"""Where sndskit keeps its store and where it finds reference data.

- ``SNDSKIT_HOME`` (default ``~/.sndskit``): the local store (``store.duckdb`` +
  ``manifest.json``) and fetched sources (``sources/``).
- Reference data source, first found of: ``SNDSKIT_REFERENCE_DATA``; ``../shared/data``
  beside the project checkout or the current directory; ``$SNDSKIT_HOME/sources``
  (filled by ``sndskit data fetch``); else the small built-in sample.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

SCHEMA_SUBDIR = "schema-snds"


def sndskit_home() -> Path:
    return Path(os.environ.get("SNDSKIT_HOME") or Path.home() / ".sndskit").expanduser()


def store_path(home: Path | None = None) -> Path:
    return Path(home or sndskit_home()) / "store.duckdb"


def manifest_path(home: Path | None = None) -> Path:
    return Path(home or sndskit_home()) / "manifest.json"


def fetched_sources_dir() -> Path:
    return sndskit_home() / "sources"


def builtin_sample_dir() -> Path:
    """Hand-written miniature of the reference data, shipped inside the package."""
    return Path(str(resources.files("sndskit") / "resources" / "sample"))


def _project_root() -> Path:
    return Path(__file__).resolve().parents[2]


def shared_data_candidates() -> list[Path]:
    env = os.environ.get("SNDSKIT_REFERENCE_DATA")
    if env:
        return [Path(env).expanduser()]
    return [
        _project_root().parent / "shared" / "data",
        Path.cwd().parent / "shared" / "data",
        fetched_sources_dir(),
    ]


def default_reference_dir() -> tuple[Path, bool]:
    """Return ``(directory, is_sample)``: the reference data to import by default."""
    for candidate in shared_data_candidates():
        if (candidate / SCHEMA_SUBDIR / "schemas").is_dir():
            return candidate, False
    return builtin_sample_dir(), True
