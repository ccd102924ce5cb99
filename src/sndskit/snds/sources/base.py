"""What an event source declares (see :mod:`sndskit.snds.sources`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from sqlglot import exp

from sndskit.snds.facts import CodeColumn

if TYPE_CHECKING:
    from sndskit.cohorts.context import CompileContext
    from sndskit.cohorts.spec import Event

# codes: vocabulary → codes of the event's code list
Build = Callable[["CompileContext", "Event", dict[str, list[str]]], list[exp.Select]]


@dataclass(frozen=True)
class Option:
    """A spec field that only some sources take (e.g. ``roles``)."""

    allowed: tuple[str, ...]
    default: tuple[str, ...]
    doc_en: str
    doc_fr: str


@dataclass(frozen=True)
class CodeLocation:
    """A code column and how its rows reach a person and a date.

    ``link``: ``dcir`` = detail table joined to ``ER_PRS_F`` on the 9 flux keys (person
    ``BEN_NIR_PSA`` + ``BEN_RNG_GEM``, date ``EXE_SOI_DTD``); ``pmsi`` = per-year table
    joined to its own year's ``patients`` table on ``ETA_NUM, RSA_NUM`` (person
    ``NIR_ANO_17``, date ``EXE_SOI_DTD``); ``beneficiary`` = person on the row itself, date
    ``date``.
    """

    column: CodeColumn
    link: Literal["dcir", "pmsi", "beneficiary"]
    date: str = "EXE_SOI_DTD"
    patients: str | None = None  # pmsi: the patient table template of the same field


@dataclass(frozen=True)
class EventSource:
    """One event source: rows (person_id, event_date, code, role) built by ``build``."""

    name: str
    label_en: str
    label_fr: str
    where: str  # Markdown, for the docs table
    date: str  # Markdown, for the docs table
    vocabularies: tuple[str, ...]
    build: Build
    code_locations: tuple[CodeLocation, ...] = ()
    options: dict[str, Option] = field(default_factory=dict)
    takes_codelist: bool = True
    drug: bool = False  # dispensings that define exposure episodes

    def option(self, event: Event, name: str) -> tuple[str, ...]:
        """The value of option ``name`` for ``event``: as given, else this source's default."""
        given = getattr(event, name)
        return tuple(given) if given is not None else self.options[name].default
