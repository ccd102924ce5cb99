"""The event-source registry: one module per source, each declaring its tables and columns,
vocabularies, options (e.g. ``roles``), date, French and English labels and its query
builder. The compiler, ``cohort describe``, ``cohort sql --inputs``, code-list usage and
orphans and the table of ``docs/cohorts.md`` all read :data:`SOURCES`.

Adding a source = one module here (exporting ``SOURCE``), its name in :data:`_MODULES`, and
its tests.

>>> SOURCES["drug_dispensing"].vocabularies
('CIP13', 'CIP7')
>>> sorted(SOURCES["hospital_diagnosis"].options)
['roles']
"""

from __future__ import annotations

from importlib import import_module

from sndskit.errors import SndskitError
from sndskit.snds.sources.base import CodeLocation, EventSource, Option

__all__ = ["SOURCES", "CodeLocation", "EventSource", "Option", "code_locations", "get_source"]

_MODULES = (
    "drug_dispensing",
    "hospital_drug",
    "medical_device",
    "procedure",
    "biology",
    "hospital_diagnosis",
    "long_term_condition",
    "death",
)
SOURCES: dict[str, EventSource] = {
    name: import_module(f"{__name__}.{name}").SOURCE for name in _MODULES
}


def get_source(name: str) -> EventSource:
    if name not in SOURCES:
        raise SndskitError(f"unknown event source {name!r}", field="source", allowed=list(SOURCES))
    return SOURCES[name]


def code_locations(vocabulary: str | None = None) -> list[CodeLocation]:
    """Every place codes of ``vocabulary`` (or of any vocabulary) are recorded, once each."""
    seen: dict[tuple[str, str], CodeLocation] = {}
    for source in SOURCES.values():
        for location in source.code_locations:
            if vocabulary in (None, location.column.vocabulary):
                seen.setdefault((location.column.table, location.column.column), location)
    return list(seen.values())
