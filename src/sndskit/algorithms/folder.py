"""An algorithm is a folder: ``algorithm.yaml``, cohort spec(s), ``codelists/`` (specs and
frozen lists), ``CHANGELOG.md``; ``README.md``/``README.en.md`` are generated from them.

The catalogue shipped with sndskit lives in ``sndskit/resources/algorithms/<id>/``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from importlib import resources
from pathlib import Path

import yaml

from sndskit.algorithms.model import AlgorithmMeta, Validation, semver_key
from sndskit.codelists.model import Codelist, load_codelist
from sndskit.cohorts.spec import CohortSpec
from sndskit.errors import SndskitError
from sndskit.specs import load_spec

META_FILE = "algorithm.yaml"
CHANGELOG_FILE = "CHANGELOG.md"
SYNTHETIC_FILE = "synthetic_validation.yaml"
_HEADING = re.compile(
    r"^## (?P<version>\S+) \((?P<day>\d{4}-\d{2}-\d{2})\)"
    r"(?: · content (?P<fingerprint>[0-9a-f]{12}))?\s*$"
)


def catalogue_root() -> Path:
    return Path(str(resources.files("sndskit") / "resources" / "algorithms"))


@dataclass(frozen=True)
class ChangelogEntry:
    version: str
    day: date
    fingerprint: str | None
    line: int
    text: str


@dataclass(frozen=True)
class Algorithm:
    """A loaded algorithm folder (metadata, cohort specs, frozen code lists)."""

    path: Path
    meta: AlgorithmMeta
    cohorts: dict[str, CohortSpec]  # spec file name → spec, in the order of the metadata

    @property
    def id(self) -> str:
        return self.meta.id

    @cached_property
    def codelists(self) -> dict[str, Codelist]:
        """Every frozen list referenced by the cohort specs, by reference (relative path)."""
        out: dict[str, Codelist] = {}
        for name, spec in self.cohorts.items():
            for event in spec.all_events():
                ref = event.codelist
                if not ref or ref in out:
                    continue
                path = self.path / ref
                if path.suffix != ".json" or not path.is_file():
                    raise SndskitError(
                        f"code list {ref!r} must be a frozen list (.json) inside the folder",
                        file=self.path / name,
                        field="codelist",
                        hint="build it with `sndskit codelist build SPEC -o codelists/NAME.json`",
                    )
                out[ref] = load_codelist(path)
        return out

    def codelists_of(self, spec_name: str) -> dict[str, Codelist]:
        refs = {e.codelist for e in self.cohorts[spec_name].all_events() if e.codelist}
        return {ref: c for ref, c in self.codelists.items() if ref in refs}

    @property
    def synthetic_validation(self) -> Validation | None:
        path = self.path / SYNTHETIC_FILE
        return load_spec(path, Validation) if path.is_file() else None

    def validations(self) -> list[Validation]:
        extra = self.synthetic_validation
        return [*self.meta.validation, *([extra] if extra else [])]

    def fingerprint(self) -> str:
        """Hash of what the algorithm computes: its cohort specs as written (parsed YAML, so
        layout and comments do not count) and the codes of its lists.

        Wording of the metadata is not part of it; any change of a spec or a code is. The
        specs are hashed as the author wrote them, not as sndskit's models dump them, so a new
        optional field in a later sndskit version does not change an algorithm's fingerprint.
        """
        content = {
            "cohorts": {
                name: yaml.safe_load((self.path / name).read_text(encoding="utf-8"))
                for name in self.cohorts
            },
            "codelists": {
                ref: sorted(f"{e.vocabulary}:{e.code}" for e in c.entries)
                for ref, c in sorted(self.codelists.items())
            },
        }
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def changelog(self) -> list[ChangelogEntry]:
        return read_changelog(self.path / CHANGELOG_FILE)


def read_changelog(path: Path) -> list[ChangelogEntry]:
    """Version sections ``## 1.1.0 (2026-12-06) · content 0123456789ab`` with their text."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise SndskitError("file not found", file=path) from None
    entries: list[ChangelogEntry] = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith("## "):
            if entries and line.strip():
                last = entries[-1]
                entries[-1] = ChangelogEntry(
                    last.version, last.day, last.fingerprint, last.line, last.text + line + "\n"
                )
            continue
        match = _HEADING.match(line)
        if not match:
            raise SndskitError(
                "a version heading reads '## MAJOR.MINOR.PATCH (YYYY-MM-DD) · content HASH'",
                file=path,
                line=number,
            )
        try:
            semver_key(match["version"])
            day = date.fromisoformat(match["day"])
        except ValueError as exc:
            raise SndskitError(str(exc), file=path, line=number) from None
        entries.append(ChangelogEntry(match["version"], day, match["fingerprint"], number, ""))
    return entries


def load_algorithm(path: Path | str) -> Algorithm:
    """Load and check the structure of an algorithm folder (errors name file and field)."""
    path = Path(path)
    meta_path = path / META_FILE
    meta = load_spec(meta_path, AlgorithmMeta)
    if meta.id != path.name:
        raise SndskitError(
            f"id {meta.id!r} differs from the folder name {path.name!r}",
            file=meta_path,
            line=_line_of_key(meta_path, "id"),
            field="id",
        )
    cohorts: dict[str, CohortSpec] = {}
    for i, ref in enumerate(meta.cohorts):
        spec_path = path / ref.spec
        if not spec_path.is_file():
            raise SndskitError(
                f"cohort spec {ref.spec!r} not found in {path}",
                file=meta_path,
                line=_line_of_key(meta_path, "cohorts"),
                field=f"cohorts.{i}.spec",
            )
        cohorts[ref.spec] = load_spec(spec_path, CohortSpec)
    return Algorithm(path=path, meta=meta, cohorts=cohorts)


def _line_of_key(path: Path, key: str) -> int | None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return None


def list_algorithms(root: Path | str | None = None) -> list[Algorithm]:
    """Every algorithm folder of the catalogue, sorted by id."""
    root = Path(root) if root else catalogue_root()
    return [
        load_algorithm(folder)
        for folder in sorted(root.iterdir())
        if folder.is_dir() and (folder / META_FILE).is_file()
    ]


def get_algorithm(name: str | Path, root: Path | str | None = None) -> Algorithm:
    """An algorithm by id (in the catalogue) or by folder path."""
    candidate = Path(name)
    if (candidate / META_FILE).is_file():
        return load_algorithm(candidate)
    root = Path(root) if root else catalogue_root()
    folder = root / str(name)
    if not (folder / META_FILE).is_file():
        known = sorted(p.name for p in root.iterdir() if (p / META_FILE).is_file())
        raise SndskitError(f"unknown algorithm {name!r}", field="algorithm", allowed=known)
    return load_algorithm(folder)
