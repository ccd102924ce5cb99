"""The shipped library of curated code lists (``resources/codelists/*.yaml``), each with its
description and cited source."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sndskit.codelists.model import Codelist, load_codelist
from sndskit.codelists.spec import CodelistSpec
from sndskit.errors import SndskitError, UnknownNameError
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


def load_codelist_ref(
    ref: str,
    base: Path,
    *,
    store: Path | None = None,
    spec_file: Path | str | None = None,
    spec_line: int | None = None,
) -> Codelist:
    """The code list a spec (e.g. a cohort) refers to: a frozen list (.json), a list spec
    (.yaml) or the name of a curated list. Any error names the referring spec's file and
    line, so a typo in a cohort's ``codelist:`` points at the cohort file."""
    from sndskit.codelists.resolve import build_codelist

    path = (base / ref) if not Path(ref).is_absolute() else Path(ref)
    try:
        if path.suffix == ".json" and path.exists():
            return load_codelist(path)
        if path.suffix in (".yaml", ".yml") and path.exists():
            return build_codelist(load_spec(path, CodelistSpec), store=store)
        return build_codelist(get_library_spec(ref), store=store)
    except SndskitError as exc:
        if spec_file is None:
            raise
        if exc.file is None:  # the reference itself is wrong: point at the referring spec
            raise SndskitError(
                f"code list {ref!r}: {exc.message}",
                file=spec_file,
                line=spec_line,
                field=exc.field or "codelist",
                allowed=exc.allowed,
                hint=exc.hint,
            ) from None
        where = f"{spec_file}:{spec_line}" if spec_line else str(spec_file)
        referred = f"referred to from {where} / cité dans {where}"
        exc.hint = f"{exc.hint} — {referred}" if exc.hint else referred
        raise SndskitError(
            exc.message,
            file=exc.file,
            line=exc.line,
            field=exc.field,
            allowed=exc.allowed,
            hint=exc.hint,
        ) from None
