"""Shared query builder of the DCIR sources: a detail table joined to ER_PRS_F on the 9 flux
keys, persons through ``nir_person``, flux and care-date windows pushed into the scan.

The ER_ETE_F filter is a semi-join (NOT EXISTS), never a denormalising join. Archive tables
(``ER_PRS_F_2012`` …) are read for flux years before 2013 when the data holds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from sndskit.snds.facts import FLUX_KEYS, LAST_ARCHIVE_YEAR, code_column, dcir_archive_table
from sndskit.snds.filters import filter_predicates
from sndskit.snds.sources.base import CodeLocation

if TYPE_CHECKING:
    from sndskit.cohorts.context import CompileContext
    from sndskit.cohorts.spec import Event

CLAIMS = "ER_PRS_F"
FACILITIES = "ER_ETE_F"


@dataclass(frozen=True)
class DcirDetail:
    """A DCIR detail table: its code column, vocabulary, CIP7 column and quantity column
    (``None`` = ER_PRS_F.PRS_ACT_QTE)."""

    table: str
    code: str
    vocabulary: str
    cip7: str | None = None
    quantity: str | None = None

    def code_locations(self) -> tuple[CodeLocation, ...]:
        columns = [self.code] + ([self.cip7] if self.cip7 else [])
        return tuple(CodeLocation(code_column(self.table, c), "dcir") for c in columns)


def _date(value) -> exp.Expression:
    return exp.cast(exp.Literal.string(value.isoformat()), "DATE")


def _codes(values: list[str]) -> list[exp.Literal]:
    return [exp.Literal.string(v) for v in values]


def dcir_events(
    detail: DcirDetail, ctx: CompileContext, event: Event, codes: dict[str, list[str]]
) -> list[exp.Select]:
    """One query per DCIR generation read: the current tables and, for flux years before
    2013, the archive tables (``ER_PRS_F_2012`` …) present in the data (primer §1)."""
    parts = [_dcir_part(detail, ctx, event.source, codes, detail.table, CLAIMS)]
    for year in range(ctx.flux_lo.year, min(ctx.flux_hi.year, LAST_ARCHIVE_YEAR) + 1):
        table, prs = (dcir_archive_table(t, year) for t in (detail.table, CLAIMS))
        if ctx.present(table) and ctx.present(prs):
            parts.append(_dcir_part(detail, ctx, event.source, codes, table, prs))
    return parts


def _code_match(
    detail: DcirDetail, ctx: CompileContext, codes: dict[str, list[str]], table: str, prs: str
) -> tuple[list[exp.Expression], exp.Expression]:
    """Predicates matching the code list, and the code reported for the row."""
    code = ctx.text("d", table, detail.code)
    main = codes.get(detail.vocabulary)
    matches = [code.isin(*_codes(main))] if main else []
    if not (detail.cip7 and codes.get("CIP7") and ctx.lo.year <= ctx.spec.snds.cip7_until_year):
        return matches, code
    # Older lines may carry only the CIP7 (primer §5); matching it costs an OR in the scan,
    # so only windows reaching those years pay for it.
    cip7 = ctx.text("d", table, detail.cip7)
    last_day = _date(ctx.lo.replace(year=ctx.spec.snds.cip7_until_year, month=12, day=31))
    old_line = ctx.as_date("p", prs, "EXE_SOI_DTD") <= last_day
    matches.append(exp.and_(old_line, cip7.isin(*_codes(codes["CIP7"]))))
    main_match = code.isin(*_codes(main)) if main else exp.false()
    return matches, exp.Case(ifs=[exp.If(this=main_match, true=code)], default=cip7)


def _dcir_part(
    detail: DcirDetail,
    ctx: CompileContext,
    source: str,
    codes: dict[str, list[str]],
    table: str,
    prs: str,
) -> exp.Select:
    matches, code_value = _code_match(detail, ctx, codes, table, prs)
    day = ctx.as_date("p", prs, "EXE_SOI_DTD")
    ctx.use(prs, "EXE_SOI_DTD", "FLX_DIS_DTD", "BEN_NIR_PSA", "BEN_RNG_GEM")
    if detail.quantity:
        ctx.use(table, detail.quantity)
        quantity = exp.column(detail.quantity, "d")
    else:
        ctx.use(prs, "PRS_ACT_QTE")
        quantity = exp.column("PRS_ACT_QTE", "p")
    query = (
        exp.select(
            exp.column("person_id", "m"),
            exp.alias_(day, "event_date"),
            exp.alias_(code_value, "code"),
            exp.alias_(exp.Sum(this=quantity), "quantity"),
            exp.alias_(exp.Count(this=exp.Star()), "records"),
        )
        .from_(exp.to_table(table).as_("d"))
        .join(exp.to_table(prs).as_("p"), on=ctx.keys_equal(("d", table), ("p", prs), FLUX_KEYS))
        .join(
            exp.to_table("nir_person").as_("m"),
            on="m.BEN_NIR_PSA = p.BEN_NIR_PSA AND m.BEN_RNG_GEM = p.BEN_RNG_GEM",
        )
        .where(exp.or_(*matches) if matches else exp.false())
        .where(exp.column("FLX_DIS_DTD", "p").between(_date(ctx.flux_lo), _date(ctx.flux_hi)))
        .where(day.between(_date(ctx.lo), _date(ctx.hi)))
        .group_by("m.person_id", day, code_value)
    )
    for predicate in filter_predicates(ctx, "dcir_line", source, prs):
        query = query.where(predicate)
    having = filter_predicates(ctx, "dcir_sum", source, table, quantity=quantity)
    return query.having(*having) if having else query
