"""Compare two frozen code lists, or a list with its own spec re-resolved today (drift)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from sndskit.codelists.model import Codelist
from sndskit.codelists.resolve import build_codelist
from sndskit.errors import SndskitError


class CodeChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vocabulary: str
    code: str
    label: str
    reason: str


class CodelistDiff(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    old: str
    new: str
    added: list[CodeChange]
    removed: list[CodeChange]
    relabelled: list[CodeChange]
    terminology_changes: dict[str, tuple[str, str]]

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.relabelled)


def _reasons(entry) -> str:
    return "; ".join(
        sorted(
            {f"{p.rule}:{p.via}" + (f" {p.detail}" if p.detail else "") for p in entry.found_from}
        )
    )


def diff_codelists(old: Codelist, new: Codelist) -> CodelistDiff:
    """Codes added (with why the new list has them), removed (with why the old one had them
    and, when known, why the new one excludes them), relabelled, and version changes."""
    before = {e.key: e for e in old.entries}
    after = {e.key: e for e in new.entries}
    excluded_now = {(e.vocabulary, e.code): e.reason for e in new.excluded}
    added = [
        CodeChange(vocabulary=k[0], code=k[1], label=after[k].label, reason=_reasons(after[k]))
        for k in sorted(after.keys() - before.keys())
    ]
    removed = []
    for key in sorted(before.keys() - after.keys()):
        why = excluded_now.get(
            key, "no longer found by any rule (absent from the terminology or the rules changed)"
        )
        removed.append(
            CodeChange(
                vocabulary=key[0],
                code=key[1],
                label=before[key].label,
                reason=f"was {_reasons(before[key])}; now {why}",
            )
        )
    relabelled = [
        CodeChange(
            vocabulary=k[0], code=k[1], label=after[k].label, reason=f"was {before[k].label!r}"
        )
        for k in sorted(before.keys() & after.keys())
        if before[k].label != after[k].label
    ]
    versions = {
        v: (old.terminology.get(v, ""), new.terminology.get(v, ""))
        for v in sorted(old.terminology.keys() | new.terminology.keys())
        if old.terminology.get(v) != new.terminology.get(v)
    }
    return CodelistDiff(
        old=f"{old.name} v{old.version} ({old.built_at})",
        new=f"{new.name} v{new.version} ({new.built_at})",
        added=added,
        removed=removed,
        relabelled=relabelled,
        terminology_changes=versions,
    )


def drift(codelist: Codelist, *, store: Path | None = None) -> CodelistDiff:
    """Re-resolve the list's own spec on the current store and compare."""
    if codelist.spec is None:
        raise SndskitError(
            f"{codelist.name} was imported, not built from a spec: nothing to re-resolve"
        )
    return diff_codelists(codelist, build_codelist(codelist.spec, store=store))
