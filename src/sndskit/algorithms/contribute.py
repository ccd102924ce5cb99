"""Contribution path: a new folder from the template, and the version record.

``new_algorithm`` copies the template, builds its frozen code lists, records version 0.1.0
with its content hash in ``CHANGELOG.md`` and generates the fiches, so that `lint` passes
from the start and fails as soon as a spec or a code changes without a version bump.
"""

from __future__ import annotations

import shutil
from datetime import date
from importlib import resources
from pathlib import Path

from sndskit.algorithms.docs import write_fiches
from sndskit.algorithms.folder import CHANGELOG_FILE, META_FILE, SYNTHETIC_FILE, load_algorithm
from sndskit.algorithms.model import ALGORITHM_ID, Validation, semver_key
from sndskit.codelists.model import save_codelist
from sndskit.codelists.resolve import build_codelist
from sndskit.codelists.spec import CodelistSpec
from sndskit.errors import SndskitError
from sndskit.io import replace_directory, write_text_atomic
from sndskit.specs import load_spec


def _template() -> Path:
    return Path(str(resources.files("sndskit") / "resources" / "algorithm_template"))


def new_algorithm(name: str, root: Path, *, store: Path | None = None) -> Path:
    """Create ``root/name`` from the template; returns the folder."""
    if not ALGORITHM_ID.match(name):
        raise SndskitError(
            "use lower-case letters, digits and '_', starting with a letter", field="name"
        )
    target = Path(root) / name
    if target.exists():
        raise SndskitError("folder already exists", file=target)
    staging = target.with_name(f".{name}.new")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(_template(), staging)
    for file in (staging / META_FILE, staging / "cohort.yaml"):
        file.write_text(file.read_text(encoding="utf-8").replace("__ID__", name), encoding="utf-8")
    for spec_path in sorted((staging / "codelists").glob("*.yaml")):
        codelist = build_codelist(load_spec(spec_path, CodelistSpec), store=store)
        save_codelist(codelist, spec_path.with_suffix(".json"))
    replace_directory(staging, target)
    record_version(target, "Première version (modèle) / first version (template).")
    write_fiches(load_algorithm(target))
    return target


def record_version(folder: Path, text: str, day: date | None = None) -> str:
    """Add the CHANGELOG section of the current version with the current content hash."""
    algorithm = load_algorithm(folder)
    path = folder / CHANGELOG_FILE
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    head, _, rest = old.partition("\n## ")
    title = head if head.startswith("# ") else f"# {algorithm.id} — journal des versions"
    section = (
        f"## {algorithm.meta.version} ({(day or date.today()).isoformat()}) · content "
        f"{algorithm.fingerprint()}\n\n{text}\n"
    )
    body = f"{title.rstrip()}\n\n{section}" + (f"\n## {rest}" if rest else "")
    write_text_atomic(path, body)
    return algorithm.fingerprint()


def bump_version(folder: Path, part: str, note: str, day: date | None = None) -> str:
    """Raise the version (``major``, ``minor`` or ``patch``) in algorithm.yaml, record it in
    CHANGELOG.md with the content hash and regenerate the fiches; returns the new version."""
    parts = ("major", "minor", "patch")
    if part not in parts:
        raise SndskitError(f"unknown version part {part!r}", field="part", allowed=parts)
    if not note.strip():
        raise SndskitError("say what changed", field="note")
    meta_path = folder / META_FILE
    old = load_algorithm(folder).meta.version
    major, minor, patch = semver_key(old)
    new = {
        "major": f"{major + 1}.0.0",
        "minor": f"{major}.{minor + 1}.0",
        "patch": f"{major}.{minor}.{patch + 1}",
    }[part]
    text = meta_path.read_text(encoding="utf-8")
    line = f"version: {old}\n"
    if line not in text:
        raise SndskitError("no 'version: X.Y.Z' line to update", file=meta_path, field="version")
    write_text_atomic(meta_path, text.replace(line, f"version: {new}\n", 1))
    record_version(folder, note, day)
    write_fiches(load_algorithm(folder))
    return new


def write_synthetic_validation(folder: Path, evidence: Validation) -> Path:
    """Store level-0 evidence beside algorithm.yaml (the fiche shows it in its validation
    section) and regenerate the fiches."""
    import yaml

    data = evidence.model_dump(mode="json", exclude_none=True)
    path = write_text_atomic(
        folder / SYNTHETIC_FILE, yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    )
    write_fiches(load_algorithm(folder))
    return path
