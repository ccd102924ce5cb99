"""Mapping store: source code → OMOP target concept(s), with full review state and history.

One :class:`Mapping` is one row of a Usagi file: a source code, one target concept (or
none: ``target_concept_id = 0``), the mapping type, the review status and equivalence,
who created and who reviewed it, when, and a comment. Status and equivalence values are
Usagi's own, so files go back and forth with Usagi without loss.

The store is a DuckDB file (``$SNDSKIT_HOME/omop/mappings.duckdb`` by default) with the
current ``mappings`` and an append-only ``history``: every create, update and delete is
an event holding the mapping before and after, the actor, the time and the origin
(``import usagi:file.csv``, ``review`` …). :meth:`MappingStore.as_of` replays the history to
give the mappings as they were at any past time — last week's version for drift.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import duckdb
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from sndskit.config import sndskit_home
from sndskit.errors import SndskitError


class MappingStatus(StrEnum):
    """Review status (Usagi ``mappingStatus``)."""

    APPROVED = "APPROVED"
    UNCHECKED = "UNCHECKED"
    AUTO_MAPPED = "AUTO_MAPPED"
    FLAGGED = "FLAGGED"
    INVALID_TARGET = "INVALID_TARGET"


# Older Usagi values, read as their current meaning.
LEGACY_STATUSES = {"AUTO_MAPPED_TO_1": MappingStatus.AUTO_MAPPED, "IGNORED": MappingStatus.FLAGGED}


class Equivalence(StrEnum):
    """How the target relates to the source (Usagi ``equivalence``; FHIR ConceptMap sense:
    WIDER = the target is wider in meaning than the source)."""

    EQUAL = "EQUAL"
    EQUIVALENT = "EQUIVALENT"
    WIDER = "WIDER"
    NARROWER = "NARROWER"
    INEXACT = "INEXACT"
    UNMATCHED = "UNMATCHED"
    UNREVIEWED = "UNREVIEWED"


class MappingType(StrEnum):
    """Which OMOP relationship the mapping becomes (``Maps to``, ``Maps to value`` …)."""

    MAPS_TO = "MAPS_TO"
    MAPS_TO_VALUE = "MAPS_TO_VALUE"
    MAPS_TO_UNIT = "MAPS_TO_UNIT"


UNUSABLE_STATUSES = frozenset({MappingStatus.FLAGGED, MappingStatus.INVALID_TARGET})
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=50, strip_whitespace=True)]
VocabularyId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]{1,20}$")]


class Mapping(BaseModel):
    """One source code → one target concept (or none), with its review state."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_vocabulary: VocabularyId
    source_code: Identifier
    source_name: str = ""
    source_frequency: int | None = Field(default=None, ge=0)
    target_concept_id: int = Field(default=0, ge=0, le=2**31 - 1)
    target_name: str = ""
    target_vocabulary_id: str = ""
    target_domain_id: str = ""
    mapping_type: MappingType = MappingType.MAPS_TO
    status: MappingStatus = MappingStatus.UNCHECKED
    equivalence: Equivalence = Equivalence.UNREVIEWED
    score: float | None = Field(default=None, ge=0.0, le=1.0)
    author: str = ""
    created_at: datetime | None = None
    reviewer: str = ""
    reviewed_at: datetime | None = None
    assigned_reviewer: str = ""
    comment: str = ""

    @field_validator("created_at", "reviewed_at")
    @classmethod
    def _utc_milliseconds(cls, value: datetime | None) -> datetime | None:
        """Times are UTC, to the millisecond (Usagi's precision), so files round-trip."""
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (
            self.source_vocabulary,
            self.source_code,
            self.target_concept_id,
            self.mapping_type.value,
        )

    @property
    def source(self) -> tuple[str, str]:
        return (self.source_vocabulary, self.source_code)

    @property
    def is_mapped(self) -> bool:
        """Has a usable target: a concept, not UNMATCHED, not FLAGGED / INVALID_TARGET."""
        return (
            self.target_concept_id > 0
            and self.equivalence != Equivalence.UNMATCHED
            and self.status not in UNUSABLE_STATUSES
        )


# Fields that describe the target concept and are refreshed from the vocabulary, not edits.
DESCRIPTIVE_FIELDS = frozenset(
    {"target_name", "target_vocabulary_id", "target_domain_id", "source_name", "source_frequency"}
)


class HistoryEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: int
    at: datetime
    actor: str
    action: str  # create | update | delete
    origin: str
    before: Mapping | None
    after: Mapping | None

    @property
    def changes(self) -> dict[str, tuple[object, object]]:
        old = self.before.model_dump(mode="json") if self.before else {}
        new = self.after.model_dump(mode="json") if self.after else {}
        return {
            k: (old.get(k), new.get(k))
            for k in sorted(old.keys() | new.keys())
            if old.get(k) != new.get(k)
        }


class ChangeSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


def default_mapping_store() -> Path:
    return sndskit_home() / "omop" / "mappings.duckdb"


_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS mappings (source_vocabulary VARCHAR, source_code VARCHAR, "
    "target_concept_id INTEGER, mapping_type VARCHAR, payload JSON, "
    "PRIMARY KEY (source_vocabulary, source_code, target_concept_id, mapping_type))",
    "CREATE SEQUENCE IF NOT EXISTS history_seq START 1",
    "CREATE TABLE IF NOT EXISTS history (event_id BIGINT DEFAULT nextval('history_seq'), "
    "changed_at TIMESTAMPTZ, actor VARCHAR, action VARCHAR, origin VARCHAR, "
    "source_vocabulary VARCHAR, source_code VARCHAR, target_concept_id INTEGER, "
    "mapping_type VARCHAR, before JSON, after JSON)",
]


def _now() -> datetime:
    return datetime.now(UTC)


class MappingStore:
    """Read and change the mappings; every change is recorded in the history.

    >>> import tempfile, pathlib
    >>> store = MappingStore(pathlib.Path(tempfile.mkdtemp()) / "m.duckdb")
    >>> m = Mapping(source_vocabulary="CIM10", source_code="E11", target_concept_id=201826)
    >>> store.apply([m], actor="alice", origin="doctest").added
    1
    >>> [e.action for e in store.history()]
    ['create']
    >>> store.close()
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path else default_mapping_store()
        if read_only and not self.path.exists():
            raise SndskitError(
                "no mapping store yet",
                file=self.path,
                hint="run `sndskit omop mappings import FILE` first",
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise SndskitError(f"cannot open the mapping store: {exc}", file=self.path) from None
        if not read_only:
            for statement in _SCHEMA:
                self.con.execute(statement)

    def __enter__(self) -> MappingStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    # -- reading -----------------------------------------------------------------------
    def mappings(self, vocabulary: str | None = None) -> list[Mapping]:
        query = "SELECT payload FROM mappings"
        params: list = []
        if vocabulary:
            query += " WHERE source_vocabulary = ?"
            params.append(vocabulary)
        query += " ORDER BY source_vocabulary, source_code, mapping_type, target_concept_id"
        return [
            Mapping.model_validate_json(p) for (p,) in self.con.execute(query, params).fetchall()
        ]

    def history(self, vocabulary: str | None = None, code: str | None = None) -> list[HistoryEvent]:
        query = "SELECT event_id, changed_at, actor, action, origin, before, after FROM history"
        conditions, params = [], []
        if vocabulary:
            conditions.append("source_vocabulary = ?")
            params.append(vocabulary)
        if code:
            conditions.append("source_code = ?")
            params.append(code)
        if conditions:
            query += " WHERE " + " AND ".join(conditions)
        rows = self.con.execute(query + " ORDER BY event_id", params).fetchall()
        return [
            HistoryEvent(
                event_id=e,
                at=at,
                actor=actor,
                action=action,
                origin=origin,
                before=Mapping.model_validate_json(b) if b else None,
                after=Mapping.model_validate_json(a) if a else None,
            )
            for e, at, actor, action, origin, b, a in rows
        ]

    def as_of(self, when: datetime) -> list[Mapping]:
        """The mappings as they were at ``when`` (replaying the history)."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        state: dict[tuple, Mapping] = {}
        for event in self.history():
            if event.at > when:
                break
            if event.before is not None:
                state.pop(event.before.key, None)
            if event.after is not None:
                state[event.after.key] = event.after
        return sorted(state.values(), key=lambda m: (m.source, m.mapping_type, m.target_concept_id))

    # -- changing ----------------------------------------------------------------------
    def _record(
        self,
        action: str,
        actor: str,
        origin: str,
        before: Mapping | None,
        after: Mapping | None,
        at: datetime,
    ) -> None:
        ref = after or before
        self.con.execute(
            "INSERT INTO history (changed_at, actor, action, origin, source_vocabulary, "
            "source_code, target_concept_id, mapping_type, before, after) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                at,
                actor,
                action,
                origin,
                ref.source_vocabulary,
                ref.source_code,
                ref.target_concept_id,
                ref.mapping_type.value,
                before.model_dump_json() if before else None,
                after.model_dump_json() if after else None,
            ],
        )

    def _write(self, mapping: Mapping) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO mappings VALUES (?, ?, ?, ?, ?)",
            [*mapping.key, mapping.model_dump_json()],
        )

    def _delete(self, mapping: Mapping) -> None:
        self.con.execute(
            "DELETE FROM mappings WHERE source_vocabulary = ? AND source_code = ? "
            "AND target_concept_id = ? AND mapping_type = ?",
            list(mapping.key),
        )

    def apply(
        self,
        mappings: Iterable[Mapping],
        *,
        actor: str,
        origin: str,
        replace_codes: bool = True,
        at: datetime | None = None,
    ) -> ChangeSummary:
        """Add or update ``mappings``; with ``replace_codes`` (the default, Usagi semantics)
        the targets of each source code present that are not in ``mappings`` are removed."""
        incoming: dict[tuple, Mapping] = {}
        for mapping in mappings:
            incoming[mapping.key] = mapping
        at = at or _now()
        summary = ChangeSummary()
        codes = {m.source for m in incoming.values()}
        current = {m.key: m for m in self.mappings() if m.source in codes}
        self.con.execute("BEGIN")
        try:
            for key, new in incoming.items():
                old = current.get(key)
                if old is None:
                    self._write(new)
                    self._record("create", actor, origin, None, new, at)
                    summary.added += 1
                elif old != new:
                    self._write(new)
                    self._record("update", actor, origin, old, new, at)
                    summary.updated += 1
                else:
                    summary.unchanged += 1
            if replace_codes:
                for key, old in current.items():
                    if key not in incoming:
                        self._delete(old)
                        self._record("delete", actor, origin, old, None, at)
                        summary.removed += 1
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return summary

    def review(
        self,
        vocabulary: str,
        code: str,
        *,
        reviewer: str,
        status: MappingStatus,
        equivalence: Equivalence | None = None,
        comment: str | None = None,
        target_concept_id: int | None = None,
    ) -> list[Mapping]:
        """Set the review state of every target of a code (or of one target)."""
        now = _now()
        targets = [
            m
            for m in self.mappings(vocabulary)
            if m.source_code == code
            and (target_concept_id is None or m.target_concept_id == target_concept_id)
        ]
        if not targets:
            raise SndskitError(f"no mapping for {vocabulary} {code}", field="source_code")
        updated = []
        for m in targets:
            changes = {"status": status, "reviewer": reviewer, "reviewed_at": now}
            if equivalence is not None:
                changes["equivalence"] = equivalence
            if comment is not None:
                changes["comment"] = comment
            updated.append(m.model_copy(update=changes))
        self.apply(updated, actor=reviewer, origin="review", replace_codes=False, at=now)
        return updated


def enrich_targets(mappings: Iterable[Mapping], concepts: dict[int, dict]) -> list[Mapping]:
    """Fill each target's name, vocabulary and domain from ``concepts`` (see
    :func:`sndskit.omop.vocabulary.describe_concepts`) where the mapping leaves them empty."""
    result = []
    for m in mappings:
        info = concepts.get(m.target_concept_id)
        if info is None:
            result.append(m)
            continue
        result.append(
            m.model_copy(
                update={
                    "target_name": m.target_name or info["concept_name"] or "",
                    "target_vocabulary_id": m.target_vocabulary_id or info["vocabulary_id"] or "",
                    "target_domain_id": m.target_domain_id or info["domain_id"] or "",
                }
            )
        )
    return result


def group_by_source(mappings: Iterable[Mapping]) -> dict[tuple[str, str], list[Mapping]]:
    grouped: dict[tuple[str, str], list[Mapping]] = {}
    for m in mappings:
        grouped.setdefault(m.source, []).append(m)
    return grouped


def iter_json(mappings: Iterable[Mapping]) -> Iterator[dict]:
    for m in mappings:
        yield json.loads(m.model_dump_json())


__all__ = [
    "ChangeSummary",
    "Equivalence",
    "HistoryEvent",
    "Mapping",
    "MappingStatus",
    "MappingStore",
    "MappingType",
    "default_mapping_store",
    "enrich_targets",
    "group_by_source",
]
