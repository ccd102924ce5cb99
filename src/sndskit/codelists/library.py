"""The shipped library of curated code lists (``resources/codelists/*.yaml``), each with its
description and cited source."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sndskit.codelists.spec import CodelistSpec
from sndskit.errors import UnknownNameError
from sndskit.specs import load_spec


def _folder() -> Path:
    return Path(str(resources.files("sndskit") / "resources" / "codelists"))


def list_library() -> list[CodelistSpec]:
    """Every curated spec, sorted by name."""
    return [load_spec(path, CodelistSpec) for path in sorted(_folder().glob("*.yaml"))]


def get_library_spec(name: str) -> CodelistSpec:
    """A curated spec by name (close names are suggested for a typo)."""
    path = _folder() / f"{name}.yaml"
    if not path.exists():
        from rapidfuzz import process

        names = [p.stem for p in _folder().glob("*.yaml")]
        raise UnknownNameError(
            "code list", name, [m[0] for m in process.extract(name, names, limit=3)]
        )
    return load_spec(path, CodelistSpec)
