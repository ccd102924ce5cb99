"""Transitional adapters for the OMOP ETL staging (``omop/etl/staging.py``), which was written
against the former event queries of this module. Nothing SNDS-specific lives here: every
function delegates to the SNDS layer (:mod:`sndskit.snds`). Port the staging to the
registry (``SOURCES[name].build``, ``filter_predicates``, ``DataSchema.keys_equal``) and
delete this module.
"""

from __future__ import annotations

from importlib import import_module

from sqlglot import exp

from sndskit.cohorts.context import CompileContext
from sndskit.cohorts.spec import Event
from sndskit.snds.facts import STAY_KEYS
from sndskit.snds.filters import filter_predicates
from sndskit.snds.filters import not_in_nullsafe as _not_in_nullsafe
from sndskit.snds.sources import SOURCES
from sndskit.snds.sources._dcir import dcir_events as _dcir_events

__all__ = [
    "STAY_KEYS",
    "_identity_filters",
    "_keys_equal",
    "_not_in_nullsafe",
    "_stay_filters",
    "dcir_events",
    "death_events",
    "diagnosis_events",
    "long_term_events",
]


def dcir_events(ctx: CompileContext, event: Event, codes: dict[str, list[str]]) -> list:
    """The DCIR part of a source (for ``procedure``: ER_CAM_F only)."""
    detail = import_module(f"sndskit.snds.sources.{event.source}").DETAIL
    return _dcir_events(detail, ctx, event, codes)


def diagnosis_events(ctx: CompileContext, event: Event, codes: list[str]) -> list:
    return SOURCES["hospital_diagnosis"].build(ctx, event, {"CIM10": codes})


def long_term_events(ctx: CompileContext, codes: list[str]) -> exp.Select:
    event = Event(source="long_term_condition", codelist="codes")
    return SOURCES["long_term_condition"].build(ctx, event, {"CIM10": codes})[0]


def death_events(ctx: CompileContext) -> list:
    return SOURCES["death"].build(ctx, Event(source="death"), {})


def _keys_equal(ctx: CompileContext, left, right, keys) -> exp.Expression:
    return ctx.keys_equal(left, right, tuple(keys))


def _stay_filters(ctx: CompileContext, stays: str) -> list[exp.Expression]:
    return filter_predicates(ctx, "pmsi_stay", "hospital_diagnosis", stays)


def _identity_filters(ctx: CompileContext, patients: str) -> list[exp.Expression]:
    return filter_predicates(ctx, "pmsi_patient", "hospital_diagnosis", patients)
