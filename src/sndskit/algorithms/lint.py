"""`sndskit algo lint`: everything a catalogue entry promises, checked.

- the folder loads (metadata complete for its status, specs valid: errors name file, line
  and field);
- every frozen code list matches its spec in ``codelists/`` and, with a terminology store,
  every code exists in its vocabulary (a different terminology version is a warning);
- every cohort spec compiles;
- ``CHANGELOG.md`` has a section for the current version whose content hash matches the
  specs and codes: changing a spec or a code list without bumping the version fails;
- the generated fiches (README.md, README.en.md) are up to date.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sndskit.algorithms.docs import FICHES, build_fiche, tables_read
from sndskit.algorithms.folder import CHANGELOG_FILE, META_FILE, Algorithm, load_algorithm
from sndskit.algorithms.model import semver_key
from sndskit.codelists.spec import CodelistSpec
from sndskit.errors import SndskitError
from sndskit.specs import dump_spec, load_spec


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    field: str | None = None
    line: int | None = None
    severity: str = "error"  # or "warning"

    def render(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        field = f" field '{self.field}':" if self.field else ""
        return f"{self.severity}: {where}:{field} {self.message}"


def _from_error(exc: SndskitError, default: Path) -> Problem:
    return Problem(exc.file or str(default), exc.message, exc.field, exc.line)


def lint_algorithm(path: Path | str, store: Path | None = None) -> list[Problem]:
    """Every problem of one algorithm folder (empty list: the folder is sound)."""
    path = Path(path)
    try:
        algorithm = load_algorithm(path)
        algorithm.codelists  # noqa: B018 - loads and checks every frozen list
    except SndskitError as exc:
        return [_from_error(exc, path / META_FILE)]
    problems = _codelists(algorithm) + _compiles(algorithm) + _changelog(algorithm)
    if store is not None and Path(store).is_file():
        problems += _terminology(algorithm, Path(store))
    else:
        problems.append(
            Problem(str(path), "no terminology store: codes not checked", severity="warning")
        )
    if not any(p.severity == "error" for p in problems):
        problems += _fiches(algorithm)
    if not algorithm.validations():
        problems.append(
            Problem(str(path / META_FILE), "no validation evidence", "validation", None, "warning")
        )
    return problems


def _codelists(algorithm: Algorithm) -> list[Problem]:
    problems = []
    for ref, frozen in algorithm.codelists.items():
        spec_path = algorithm.path / Path(ref).with_suffix(".yaml")
        if frozen.spec is None:
            problems.append(Problem(ref, "frozen list has no spec (imported lists not allowed)"))
            continue
        if not spec_path.is_file():
            problems.append(Problem(str(spec_path), "spec of the frozen list is missing"))
            continue
        try:
            spec = load_spec(spec_path, CodelistSpec)
        except SndskitError as exc:
            problems.append(_from_error(exc, spec_path))
            continue
        digest = hashlib.sha256(dump_spec(spec).encode()).hexdigest()
        if spec != frozen.spec or digest != frozen.spec_hash:
            problems.append(
                Problem(
                    str(algorithm.path / ref),
                    f"frozen list is out of date with {spec_path.name}: rebuild it with "
                    f"`sndskit codelist build {spec_path} -o {algorithm.path / ref}`",
                    "spec_hash",
                )
            )
    return problems


def _compiles(algorithm: Algorithm) -> list[Problem]:
    from sndskit.cohorts.runner import plan_cohort

    problems = []
    for name, spec in algorithm.cohorts.items():
        try:
            plan_cohort(spec, algorithm.codelists_of(name))
        except SndskitError as exc:
            problems.append(_from_error(exc, algorithm.path / name))
    return problems


def _changelog(algorithm: Algorithm) -> list[Problem]:
    file = str(algorithm.path / CHANGELOG_FILE)
    try:
        entries = algorithm.changelog()
    except SndskitError as exc:
        return [_from_error(exc, algorithm.path / CHANGELOG_FILE)]
    version, fingerprint = algorithm.meta.version, algorithm.fingerprint()
    if not entries:
        return [
            Problem(file, f"no version section (add '## {version} (DATE) · content {fingerprint}')")
        ]
    problems = []
    versions = [e.version for e in entries]
    if versions != sorted(versions, key=semver_key, reverse=True) or len(set(versions)) != len(
        versions
    ):
        problems.append(Problem(file, "versions must be unique, newest first"))
    top = entries[0]
    if top.version != version:
        problems.append(
            Problem(
                file,
                f"newest section is {top.version}, algorithm.yaml says {version}",
                line=top.line,
            )
        )
    elif top.fingerprint != fingerprint:
        problems.append(
            Problem(
                file,
                f"specs or code lists changed since {version} was recorded "
                f"(content {top.fingerprint} → {fingerprint}): bump the version in "
                f"algorithm.yaml and add a section '## NEW (DATE) · content {fingerprint}'",
                "version",
                top.line,
            )
        )
    if not top.text.strip():
        problems.append(Problem(file, f"section {top.version} says nothing", line=top.line))
    return problems


def _terminology(algorithm: Algorithm, store: Path) -> list[Problem]:
    from sndskit.codelists.resolve import store_versions
    from sndskit.terminology.search import search_index

    index = search_index(store)
    versions, _ = store_versions(store)
    problems = []
    for ref, frozen in algorithm.codelists.items():
        missing = [e.code for e in frozen.entries if index.concept_id(e.vocabulary, e.code) is None]
        if missing:
            problems.append(
                Problem(
                    ref,
                    f"{len(missing)} code(s) not in the terminology: {', '.join(missing[:10])}",
                    "entries",
                )
            )
        for vocabulary, version in frozen.terminology.items():
            if versions.get(vocabulary) != version:
                problems.append(
                    Problem(
                        ref,
                        f"{vocabulary} resolved on {version}, the store has "
                        f"{versions.get(vocabulary)}: codes checked against the store's version",
                        "terminology",
                        severity="warning",
                    )
                )
    return problems


def _fiches(algorithm: Algorithm) -> list[Problem]:
    tables = tables_read(algorithm)
    problems = []
    for lang, name in FICHES.items():
        path = algorithm.path / name
        expected = build_fiche(algorithm, lang, tables)
        if not path.is_file() or path.read_text(encoding="utf-8") != expected:
            problems.append(
                Problem(
                    str(path),
                    "generated fiche is out of date: run `sndskit algo docs "
                    f"{algorithm.id} --fiches`",
                )
            )
    return problems
