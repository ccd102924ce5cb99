"""``death``: deaths from the beneficiary table (BEN_DCD_DTE, 1600-01-01 = alive) and from
hospital discharges (SOR_MOD = 9); takes no code list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from sndskit.snds.facts import PMSI_PATIENTS, PMSI_STAYS, pmsi_table
from sndskit.snds.sources import _pmsi
from sndskit.snds.sources.base import EventSource

if TYPE_CHECKING:
    from sndskit.cohorts.context import CompileContext
    from sndskit.cohorts.spec import Event


def build(ctx: CompileContext, event: Event, codes: dict[str, list[str]]) -> list[exp.Select]:
    window = (_pmsi.date_literal(ctx.lo), _pmsi.date_literal(ctx.hi))
    parts = [
        exp.select(
            "person_id",
            exp.alias_(exp.column("death_date"), "event_date"),
            exp.alias_(exp.Literal.string("DEATH"), "code"),
            exp.alias_(exp.Literal.string("IR_BEN_R"), "role"),
        )
        .from_("persons")
        .where(exp.column("death_date").between(*window))
    ]
    for year in _pmsi.years(ctx, PMSI_STAYS, PMSI_PATIENTS):
        stays = pmsi_table(PMSI_STAYS, year)
        rows = (
            exp.select(
                *_pmsi.text_keys(ctx, "t", stays),
                exp.alias_(exp.Literal.string("DEATH"), "code"),
                exp.alias_(exp.Literal.string("SOR_MOD=9"), "role"),
            )
            .from_(exp.to_table(stays).as_("t"))
            .where(ctx.text("t", stays, "SOR_MOD").eq(exp.Literal.string("9")))
        )
        parts.append(_pmsi.pmsi_frame(ctx, SOURCE.name, year, rows, event_day="EXE_SOI_DTF"))
    return parts


SOURCE = EventSource(
    name="death",
    label_en="deaths (IR_BEN_R, in-hospital deaths of the PMSI)",
    label_fr="décès (IR_BEN_R, sorties par décès du PMSI)",
    where="`IR_BEN_R.BEN_DCD_DTE` (not 1600-01-01), `T_MCOaaB.SOR_MOD = 9`",
    date="death / discharge",
    vocabularies=(),
    build=build,
    takes_codelist=False,
)
