"""The release ledger: what was already published from one data source.

Two outputs can each be safe and still give a small count by difference: the same cohort with
one more exclusion criterion, two criteria swapped, the period end moved by a few days. The
ledger (``SNDSKIT_HOME/ledger/<fingerprint>.jsonl``, one file per data source, keyed by a
fingerprint of its tables) records every visible count published with its definition: the
*family* (what makes two definitions nested or shifted versions of each other — for a cohort,
its entry events), the exact definition (spec hash), the table and the stratum. A new output is
refused when one of its visible counts differs by 1–threshold from a recorded count of the same
family, another definition and a comparable cell: the same stratum, or any attrition step
(adding a criterion shifts the steps). ``force`` records the override.

What it does not catch (see docs/privacy.md): outputs made on another machine or another
``SNDSKIT_HOME``, with other tools, before the ledger existed, or on a copy of the data whose
fingerprint differs (another extraction, a different folder layout); two families that are in
fact nested (two code lists, one inside the other); differences between non-count values
(rates, person-years); differences spread over several cells.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sndskit.config import sndskit_home
from sndskit.disclosure.suppress import DisclosureError
from sndskit.disclosure.threshold import is_small

ANY_STEP = "attrition"
"""Counts of this table are compared with every recorded count of the table (steps shift)."""


@dataclass(frozen=True)
class Release:
    family: str
    definition: str
    table: str
    stratum: tuple[str, ...]
    value: int


@dataclass
class Conflict:
    new: Release
    old: Release

    def explain(self) -> str:
        return (
            f"{self.new.table} {'/'.join(self.new.stratum)} = {self.new.value} differs by "
            f"{abs(self.new.value - self.old.value)} from {self.old.table} "
            f"{'/'.join(self.old.stratum)} = {self.old.value} already published for definition "
            f"{self.old.definition[:12]}"
        )


def data_fingerprint(data: Any) -> str:
    """A fingerprint of a data source: its table names and the relative paths and sizes of
    its files (a folder or a DuckDB file), or the database name (Spark catalog)."""
    digest = hashlib.sha256()
    for name in sorted(getattr(data, "tables", None) or {}):
        digest.update(f"table:{name}\n".encode())
    path = getattr(data, "path", None)
    if path is not None and Path(path).is_dir():
        for file in sorted(Path(path).rglob("*")):
            if file.is_file():
                digest.update(f"{file.relative_to(path)}:{file.stat().st_size}\n".encode())
    elif path is not None and Path(path).is_file():
        digest.update(f"{Path(path).name}:{Path(path).stat().st_size}\n".encode())
    digest.update(str(getattr(data, "database", "")).encode())
    return digest.hexdigest()[:24]


def family_of(definition: Any) -> str:
    return hashlib.sha256(json.dumps(definition, sort_keys=True, default=str).encode()).hexdigest()


def ledger_path(fingerprint: str, home: Path | None = None) -> Path:
    return (home or sndskit_home()) / "ledger" / f"{fingerprint}.jsonl"


def _recorded(path: Path) -> list[Release]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        for r in entry["releases"]:
            out.append(
                Release(r["family"], r["definition"], r["table"], tuple(r["stratum"]), r["value"])
            )
    return out


def find_conflicts(
    fingerprint: str, releases: Iterable[Release], threshold: int, home: Path | None = None
) -> list[Conflict]:
    """Recorded counts that a new visible count would give a small difference with."""
    index: dict[tuple, list[Release]] = {}
    for old in _recorded(ledger_path(fingerprint, home)):
        index.setdefault(_slot(old), []).append(old)
    conflicts = []
    for new in releases:
        for old in index.get(_slot(new), []):
            if old.definition != new.definition and is_small(abs(new.value - old.value), threshold):
                conflicts.append(Conflict(new, old))
    return conflicts


def _slot(release: Release) -> tuple:
    stratum = () if release.table == ANY_STEP else release.stratum
    return release.family, release.table, stratum


def check_and_record(
    fingerprint: str,
    releases: list[Release],
    threshold: int,
    *,
    output: str,
    force: bool = False,
    home: Path | None = None,
) -> dict[str, Any]:
    """Refuse (``DisclosureError``) a release whose counts differ by 1–threshold from recorded
    ones, unless ``force``; record it; return the ledger section of the manifest."""
    conflicts = find_conflicts(fingerprint, releases, threshold, home)
    if conflicts and not force:
        shown = "; ".join(c.explain() for c in conflicts[:5])
        raise DisclosureError(
            f"{len(conflicts)} published count(s) would give a count of 1–{threshold} persons by "
            f"difference with an earlier release of the same data: {shown} / des effectifs "
            "déjà publiés permettraient de retrouver un petit effectif par différence",
            hint="change the definition, or publish with --force (the override is recorded)",
        )
    path = ledger_path(fingerprint, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "output": output,
        "forced": bool(conflicts),
        "overrides": [c.explain() for c in conflicts],
        "releases": [asdict(r) for r in releases],
    }
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return {
        "fingerprint": fingerprint,
        "path": str(path),
        "checked_releases": len(releases),
        "conflicts": len(conflicts),
        "forced": bool(conflicts),
        "overrides": entry["overrides"],
    }
