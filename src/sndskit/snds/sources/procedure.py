"""``procedure``: CCAM acts, billed in the DCIR (ER_CAM_F) and coded in PMSI MCO stays
(T_MCOaaA); ``procedures_in`` chooses where to look."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from sndskit.snds.facts import PMSI_PATIENTS, code_column, pmsi_table
from sndskit.snds.sources import _pmsi
from sndskit.snds.sources._dcir import DcirDetail, dcir_events
from sndskit.snds.sources.base import CodeLocation, EventSource, Option

if TYPE_CHECKING:
    from sndskit.cohorts.context import CompileContext
    from sndskit.cohorts.spec import Event

DETAIL = DcirDetail("ER_CAM_F", "CAM_PRS_IDE", "CCAM")
ACTS = "T_MCOaaA"


def pmsi_procedure_events(ctx: CompileContext, codes: list[str]) -> list[exp.Select]:
    parts = []
    for year in _pmsi.years(ctx, ACTS, "T_MCOaaB", "T_MCOaaC"):
        table = pmsi_table(ACTS, year)
        code = ctx.text("t", table, "CDC_ACT")
        rows = (
            exp.select(
                *_pmsi.text_keys(ctx, "t", table),
                exp.alias_(code, "code"),
                exp.alias_(exp.Literal.string("ACT"), "role"),
            )
            .from_(exp.to_table(table).as_("t"))
            .where(code.copy().isin(*_pmsi.codes_in(codes)))
        )
        parts.append(_pmsi.pmsi_frame(ctx, "procedure", year, rows))
    return parts


def build(ctx: CompileContext, event: Event, codes: dict[str, list[str]]) -> list[exp.Select]:
    where = SOURCE.option(event, "procedures_in")
    parts = dcir_events(DETAIL, ctx, event, codes) if "dcir" in where else []
    if "pmsi" in where:
        parts += pmsi_procedure_events(ctx, codes.get("CCAM", []))
    return parts


SOURCE = EventSource(
    name="procedure",
    label_en="CCAM procedures (DCIR ER_CAM_F and PMSI MCO)",
    label_fr="actes CCAM (DCIR ER_CAM_F et PMSI MCO)",
    where="`ER_CAM_F` ⋈ `ER_PRS_F` and `T_MCOaaA.CDC_ACT` (`procedures_in`)",
    date="care date / stay start",
    vocabularies=("CCAM",),
    build=build,
    code_locations=(
        *DETAIL.code_locations(),
        CodeLocation(code_column(ACTS, "CDC_ACT"), "pmsi", patients=PMSI_PATIENTS),
    ),
    options={
        "procedures_in": Option(
            allowed=("dcir", "pmsi"),
            default=("dcir", "pmsi"),
            doc_en="where to look for acts",
            doc_fr="où chercher les actes",
        )
    },
)
