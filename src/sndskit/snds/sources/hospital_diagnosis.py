"""``hospital_diagnosis``: CIM-10 diagnoses of PMSI MCO stays, in the roles asked: DP, DR
(T_MCOaaB), DAS = associated diagnoses (T_MCOaaD) ∪ per-unit diagnoses (T_MCOaaUM) minus
the stay's DP (primer §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from sndskit.snds.facts import PMSI_PATIENTS, PMSI_STAYS, STAY_KEYS, code_column, pmsi_table
from sndskit.snds.sources import _pmsi
from sndskit.snds.sources.base import CodeLocation, EventSource, Option

if TYPE_CHECKING:
    from sndskit.cohorts.context import CompileContext
    from sndskit.cohorts.spec import Event

STAY_ROLES = (("DP", "DGN_PAL"), ("DR", "DGN_REL"))
DAS_TABLES = (("T_MCOaaD", ("ASS_DGN",)), ("T_MCOaaUM", ("DGN_PAL", "DGN_REL")))


def _stay_rows(ctx, stays: str, roles, codes: list[str]) -> list[exp.Select]:
    rows = []
    for role, column in STAY_ROLES:
        if role in roles:
            code = ctx.text("t", stays, column)
            rows.append(
                exp.select(
                    *_pmsi.text_keys(ctx, "t", stays),
                    exp.alias_(code, "code"),
                    exp.alias_(exp.Literal.string(role), "role"),
                )
                .from_(exp.to_table(stays).as_("t"))
                .where(code.copy().isin(*_pmsi.codes_in(codes)))
            )
    return rows


def _das_rows(ctx, stays: str, year: int, codes: list[str]) -> list[exp.Select]:
    rows = []
    for template, columns in DAS_TABLES:
        table = pmsi_table(template, year)
        if not ctx.has(table):
            continue
        for column in columns:
            code = ctx.text("t", table, column)
            dp = ctx.text("b", stays, "DGN_PAL")
            rows.append(
                exp.select(
                    *_pmsi.text_keys(ctx, "t", table),
                    exp.alias_(code, "code"),
                    exp.alias_(exp.Literal.string("DAS"), "role"),
                )
                .from_(exp.to_table(table).as_("t"))
                .join(
                    exp.to_table(stays).as_("b"),
                    on=ctx.keys_equal(("t", table), ("b", stays), STAY_KEYS),
                )
                .where(code.copy().isin(*_pmsi.codes_in(codes)))
                .where(exp.or_(dp.is_(exp.null()), dp.neq(code.copy())))
            )
    return rows


def build(ctx: CompileContext, event: Event, codes: dict[str, list[str]]) -> list[exp.Select]:
    roles = SOURCE.option(event, "roles")
    listed = codes.get("CIM10", [])
    parts = []
    for year in _pmsi.years(ctx, PMSI_STAYS, PMSI_PATIENTS):
        stays = pmsi_table(PMSI_STAYS, year)
        rows = _stay_rows(ctx, stays, roles, listed)
        if "DAS" in roles:
            rows += _das_rows(ctx, stays, year, listed)
        if rows:
            parts.append(_pmsi.pmsi_frame(ctx, SOURCE.name, year, _pmsi.union_all(rows)))
    return parts


SOURCE = EventSource(
    name="hospital_diagnosis",
    label_en="hospital diagnoses (PMSI MCO)",
    label_fr="diagnostics d'hospitalisation (PMSI MCO)",
    where="`T_MCOaaB` DP/DR, DAS = `T_MCOaaD` ∪ `T_MCOaaUM` minus the stay's DP; persons and "
    "dates from `T_MCOaaC`",
    date="stay start",
    vocabularies=("CIM10",),
    build=build,
    code_locations=tuple(
        CodeLocation(code_column(table, column), "pmsi", patients=PMSI_PATIENTS)
        for table, columns in (("T_MCOaaB", ("DGN_PAL", "DGN_REL")), *DAS_TABLES)
        for column in columns
    ),
    options={
        "roles": Option(
            allowed=("DP", "DR", "DAS"),
            default=("DP", "DR", "DAS"),
            doc_en="diagnosis roles",
            doc_fr="rôles",
        )
    },
)
