"""Shared pieces of the PMSI MCO sources: stays listed by a per-year table, joined to their
stay (``T_MCOaaB``) and patient (``T_MCOaaC``) rows of the same year, persons through
``pmsi_person``, stay and identity filters of the preset."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from sndskit.snds.facts import PMSI_PATIENTS, PMSI_STAYS, STAY_KEYS, pmsi_table
from sndskit.snds.filters import filter_predicates

if TYPE_CHECKING:
    from sndskit.cohorts.context import CompileContext


def date_literal(value) -> exp.Expression:
    return exp.cast(exp.Literal.string(value.isoformat()), "DATE")


def codes_in(values: list[str]) -> list[exp.Literal]:
    return [exp.Literal.string(v) for v in values]


def text_keys(ctx: CompileContext, alias: str, table: str) -> list[exp.Expression]:
    """Stay keys as text, so rows of tables typing them differently line up (primer §1)."""
    return [exp.alias_(ctx.text(alias, table, key), key) for key in STAY_KEYS]


def years(ctx: CompileContext, *templates: str) -> list[int]:
    """PMSI years of the window whose tables ``templates`` are all in the data."""
    return [y for y in ctx.pmsi_years if all(ctx.has(pmsi_table(t, y)) for t in templates)]


def union_all(rows: list[exp.Select]) -> exp.Select:
    union: exp.Expression = rows[0]
    for part in rows[1:]:
        union = exp.union(union, part, distinct=False)
    return union if isinstance(union, exp.Select) else exp.select("*").from_(union.subquery("u"))


def pmsi_frame(
    ctx: CompileContext,
    source: str,
    year: int,
    codes_rows: exp.Select,
    event_day: str = "EXE_SOI_DTD",
) -> exp.Select:
    """Person and date of the stays listed by ``codes_rows`` (ETA_NUM, RSA_NUM, code, role)."""
    stays, patients = pmsi_table(PMSI_STAYS, year), pmsi_table(PMSI_PATIENTS, year)
    ctx.use(patients, "NIR_ANO_17", event_day)
    day = ctx.as_date("c", patients, event_day)
    return (
        exp.select(exp.column("person_id", "m"), exp.alias_(day, "event_date"), "x.code", "x.role")
        .from_(codes_rows.subquery("x"))
        .join(
            exp.to_table(stays).as_("s"),
            on=exp.and_(*(exp.column(k, "x").eq(ctx.text("s", stays, k)) for k in STAY_KEYS)),
        )
        .join(
            exp.to_table(patients).as_("c"),
            on=ctx.keys_equal(("s", stays), ("c", patients), STAY_KEYS),
        )
        .join(
            exp.to_table("pmsi_person").as_("m"),
            on=exp.column("BEN_NIR_PSA", "m").eq(ctx.text("c", patients, "NIR_ANO_17")),
        )
        .where(
            *filter_predicates(ctx, "pmsi_stay", source, stays),
            *filter_predicates(ctx, "pmsi_patient", source, patients),
        )
        .where(day.between(date_literal(ctx.lo), date_literal(ctx.hi)))
    )
