"""Quality filters as typed data: each filter is one :class:`QualityFilter` (id,
description, sources cited, sources it applies to, SQL predicate builder); presets name
filters and are validated against them.

Descriptions, citations, the sources each filter applies to and the presets are data
(``resources/cohorts/quality_filters.yaml``); the predicates are the builders below, keyed
by the same id. Predicates go in one of four places of an event query (:data:`STAGES`).

>>> sorted(get_preset("minimal"))[:2]
['dcir_information_lines', 'dcir_regularisations']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml
from sqlglot import exp

from sndskit.errors import SndskitError
from sndskit.snds.facts import FLUX_KEYS, PLACEHOLDER_NIR, RETURN_CODES, finess_duplicates

if TYPE_CHECKING:
    from sndskit.cohorts.context import CompileContext

FILTERS_FILE = "resources/cohorts/quality_filters.yaml"
# where a predicate goes: a DCIR line (ER_PRS_F as p), a DCIR sum per (person, day, code)
# (HAVING), a PMSI stay (T_MCOaaB as s), a PMSI patient row (T_MCOaaC as c)
STAGES = ("dcir_line", "dcir_sum", "pmsi_stay", "pmsi_patient")
Builder = Callable[..., list[exp.Expression]]


def _codes(values) -> list[exp.Literal]:
    return [exp.Literal.string(v) for v in values]


def not_in_nullsafe(column: exp.Expression, values: list[int]) -> exp.Expression:
    """``column IS NULL OR NOT column IN (values)``."""
    return exp.or_(
        column.is_(exp.null()), exp.not_(column.isin(*(exp.Literal.number(v) for v in values)))
    )


def _information_lines(ctx: CompileContext, prs: str, **_: Any) -> list[exp.Expression]:
    ctx.use(prs, "DPN_QLF", "PRS_DPN_QLP")
    return [
        not_in_nullsafe(exp.column("DPN_QLF", "p"), [71]),
        not_in_nullsafe(exp.column("PRS_DPN_QLP", "p"), [71]),
    ]


def _ucd_information_lines(ctx: CompileContext, prs: str, **_: Any) -> list[exp.Expression]:
    ctx.use(prs, "DPN_QLF")
    return [not_in_nullsafe(exp.column("DPN_QLF", "p"), [71, 72])]


def _no_nature(ctx: CompileContext, prs: str, **_: Any) -> list[exp.Expression]:
    ctx.use(prs, "BSE_PRS_NAT")
    return [not_in_nullsafe(exp.column("BSE_PRS_NAT", "p"), [0])]


def _private_hospital_taa(ctx: CompileContext, prs: str, **_: Any) -> list[exp.Expression]:
    ete = prs.replace("ER_PRS_F", "ER_ETE_F")
    if not ctx.has(ete):
        return []  # issue #11: a missing ER_ETE_F will be an error or a recorded warning
    ctx.use(ete, "ETE_IND_TAA")
    taa = (
        exp.select("1")
        .from_(exp.to_table(ete).as_("e"))
        .where(ctx.keys_equal(("e", ete), ("p", prs), FLUX_KEYS))
        .where(exp.column("ETE_IND_TAA", "e").eq(exp.Literal.number(1)))
    )
    return [exp.not_(exp.Exists(this=taa))]


def _regularisations(ctx: CompileContext, _table: str, *, quantity, **_: Any):
    return [exp.Sum(this=quantity.copy()) > exp.Literal.number(0)]


def _duplicate_finess(ctx: CompileContext, stays: str, **_: Any) -> list[exp.Expression]:
    finess = finess_duplicates(ctx.spec.snds.finess_duplicates)
    if not finess:
        return []
    return [exp.not_(ctx.text("s", stays, "ETA_NUM").isin(*_codes(finess)))]


def _error_ghm(ctx: CompileContext, stays: str, **_: Any) -> list[exp.Expression]:
    ghm = ctx.text("s", stays, "GRG_GHM")
    return [
        exp.or_(
            ghm.is_(exp.null()),
            exp.not_(exp.StartsWith(this=ghm.copy(), expression=exp.Literal.string("90"))),
        )
    ]


def _session_stays(ctx: CompileContext, stays: str, **_: Any) -> list[exp.Expression]:
    ctx.use(stays, "SEJ_TYP")
    sej = exp.column("SEJ_TYP", "s")
    keep = exp.or_(sej.is_(exp.null()), sej.neq(exp.Literal.string("B")))
    if ctx.spec.snds.quality_filters == "scalpel":  # SCALPEL keeps sessions of GHM 28
        keep = exp.or_(
            keep,
            exp.StartsWith(
                this=ctx.text("s", stays, "GRG_GHM"), expression=exp.Literal.string("28")
            ),
        )
    return [keep]


def _invalid_identity(ctx: CompileContext, patients: str, **_: Any) -> list[exp.Expression]:
    nir = ctx.text("c", patients, "NIR_ANO_17")
    out = [exp.not_(nir.isin(*_codes(PLACEHOLDER_NIR)))]
    for column in RETURN_CODES:
        if not ctx.has_column(patients, column):
            continue  # older years lack some return codes
        if ctx.is_boolean(patients, column):  # the schema types them boolean: true = error
            ctx.use(patients, column)
            out.append(exp.not_(exp.func("coalesce", exp.column(column, "c"), exp.false())))
        else:
            code = exp.func("coalesce", ctx.text("c", patients, column), exp.Literal.string("0"))
            out.append(code.eq(exp.Literal.string("0")))
    return out


# id → (stage, builder), in the order predicates are written into the SQL
_BUILDERS: dict[str, tuple[str, Builder]] = {
    "dcir_information_lines": ("dcir_line", _information_lines),
    "dcir_ucd_information_lines": ("dcir_line", _ucd_information_lines),
    "dcir_no_nature": ("dcir_line", _no_nature),
    "dcir_private_hospital_taa": ("dcir_line", _private_hospital_taa),
    "dcir_regularisations": ("dcir_sum", _regularisations),
    "pmsi_duplicate_finess": ("pmsi_stay", _duplicate_finess),
    "pmsi_error_ghm": ("pmsi_stay", _error_ghm),
    "pmsi_session_stays": ("pmsi_stay", _session_stays),
    "pmsi_invalid_identity": ("pmsi_patient", _invalid_identity),
}


@dataclass(frozen=True)
class QualityFilter:
    id: str
    description: str
    description_fr: str
    cited: tuple[str, ...]
    applies_to: tuple[str, ...]  # event sources
    stage: str
    build: Builder
    replaces: tuple[str, ...] = ()  # filters this one supersedes when both are on


@cache
def _document() -> dict:
    path = resources.files("sndskit") / FILTERS_FILE
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@cache
def get_filters() -> dict[str, QualityFilter]:
    """Every quality filter, in SQL order; the YAML and the builders must name the same ids
    and every filter must apply to known sources."""
    from sndskit.snds.sources import SOURCES

    declared = _document()["filters"]
    if set(declared) != set(_BUILDERS):
        raise SndskitError(
            "quality filters and their SQL builders differ: "
            f"{sorted(set(declared) ^ set(_BUILDERS))}",
            file=FILTERS_FILE,
            allowed=sorted(_BUILDERS),
        )
    out = {}
    for name, (stage, build) in _BUILDERS.items():
        entry = declared[name]
        unknown = sorted(set(entry["applies_to"]) - set(SOURCES))
        if unknown:
            raise SndskitError(
                f"filter {name} applies to unknown sources {unknown}",
                file=FILTERS_FILE,
                field=f"filters.{name}.applies_to",
                allowed=sorted(SOURCES),
            )
        out[name] = QualityFilter(
            id=name,
            description=" ".join(entry["description"].split()),
            description_fr=" ".join(entry["description_fr"].split()),
            cited=tuple(entry["cited"]),
            applies_to=tuple(entry["applies_to"]),
            stage=stage,
            build=build,
            replaces=tuple(entry.get("replaces", ())),
        )
    return out


@cache
def get_presets() -> dict[str, tuple[str, ...]]:
    """Preset → filter ids; a preset naming an unknown filter is an error."""
    filters = get_filters()
    presets = {}
    for preset, names in _document()["presets"].items():
        unknown = [n for n in names or [] if n not in filters]
        if unknown:
            raise SndskitError(
                f"preset {preset} names unknown quality filter(s) {', '.join(unknown)}",
                file=FILTERS_FILE,
                field=f"presets.{preset}",
                allowed=sorted(filters),
            )
        presets[preset] = tuple(names or ())
    return presets


def get_preset(name: str) -> tuple[str, ...]:
    presets = get_presets()
    if name not in presets:
        raise SndskitError(
            f"unknown quality-filter preset {name!r}",
            field="snds.quality_filters",
            allowed=sorted(presets),
        )
    return presets[name]


def active_filters(preset: str, stage: str, source: str) -> list[QualityFilter]:
    """The filters of ``preset`` that go at ``stage`` of a ``source`` query, in SQL order."""
    chosen = set(get_preset(preset))
    filters = get_filters()
    replaced = {
        r for name in chosen for r in filters[name].replaces if source in filters[name].applies_to
    }
    return [
        f
        for f in filters.values()
        if f.id in chosen and f.id not in replaced and f.stage == stage and source in f.applies_to
    ]


def filter_predicates(
    ctx: CompileContext, stage: str, source: str, table: str, **extra: Any
) -> list[exp.Expression]:
    """Predicates of the spec's preset for one stage of a source query."""
    out: list[exp.Expression] = []
    for quality_filter in active_filters(ctx.spec.snds.quality_filters, stage, source):
        out += quality_filter.build(ctx, table, **extra)
    return out
