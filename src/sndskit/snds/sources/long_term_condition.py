"""``long_term_condition``: ALD registrations (IR_IMB_R) on a listed CIM-10 code, not for
work accident, occupational disease or disability (IMB_ETM_NAT 11, 12, 13); dated at their
start (issue #11 reads them as periods)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from sndskit.snds.facts import code_column
from sndskit.snds.filters import not_in_nullsafe
from sndskit.snds.sources import _pmsi
from sndskit.snds.sources.base import CodeLocation, EventSource

if TYPE_CHECKING:
    from sndskit.cohorts.context import CompileContext
    from sndskit.cohorts.spec import Event

TABLE = "IR_IMB_R"
NOT_EXONERATING = [11, 12, 13]  # IMB_ETM_NAT: work accident, occupational disease, disability


def build(ctx: CompileContext, event: Event, codes: dict[str, list[str]]) -> list[exp.Select]:
    ctx.use(TABLE, "BEN_NIR_PSA", "BEN_RNG_GEM", "IMB_ALD_DTD", "IMB_ETM_NAT")
    code = ctx.text("t", TABLE, "MED_MTF_COD")
    day = ctx.as_date("t", TABLE, "IMB_ALD_DTD")
    query = (
        exp.select(
            exp.column("person_id", "m"),
            exp.alias_(day, "event_date"),
            exp.alias_(code, "code"),
            exp.alias_(exp.Literal.string("ALD"), "role"),
        )
        .from_(exp.to_table(TABLE).as_("t"))
        .join(
            exp.to_table("nir_person").as_("m"),
            on="m.BEN_NIR_PSA = t.BEN_NIR_PSA AND m.BEN_RNG_GEM = t.BEN_RNG_GEM",
        )
        .where(code.copy().isin(*_pmsi.codes_in(codes.get("CIM10", []))))
        .where(not_in_nullsafe(exp.column("IMB_ETM_NAT", "t"), NOT_EXONERATING))
        .where(day.between(_pmsi.date_literal(ctx.lo), _pmsi.date_literal(ctx.hi)))
    )
    return [query]


SOURCE = EventSource(
    name="long_term_condition",
    label_en="long-term conditions (ALD, IR_IMB_R)",
    label_fr="affections de longue durée (IR_IMB_R)",
    where="`IR_IMB_R.MED_MTF_COD`, `IMB_ETM_NAT` not 11/12/13",
    date="`IMB_ALD_DTD`",
    vocabularies=("CIM10",),
    build=build,
    code_locations=(
        CodeLocation(code_column(TABLE, "MED_MTF_COD"), "beneficiary", date="IMB_ALD_DTD"),
    ),
)
