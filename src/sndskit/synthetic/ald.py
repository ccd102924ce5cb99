"""Long-term conditions (``IR_IMB_R``) as periods, their motive traps and their truth.

A registration is in force over ``[IMB_ALD_DTD, IMB_ALD_DTF]``; an open end is coded
``1600-01-01`` or left NULL. The exonerating ALD motives are ``IMB_ETM_NAT`` 41 (listed
condition), 43 (off-list condition) and 45 (polypathology), the last two with
``IMB_ALD_NUM`` 99 (``IR_ALD_V``: off-list or not broken down): the reference
queries of the Health Data Hub documentation select ``IMB_ETM_NAT IN (41, 43, 45)``
(SNDS primer §5). Planted here (truth in ``traps_ald``, ``ald`` and ``ald_in_force``):

- ``ald_other_exonerating``: a disease-module ALD under motive 43 or 45 instead of 41;
- ``ald_non_exonerating``: a case without ALD gets a row with its condition's code under
  motive 47 (article L324, not exonerating) or 21 (military pension), and pregnant women
  a motive 55 row (maternity, from the 6th month);
- ``ald_not_ald``: work accident, occupational disease, invalidity (11, 12, 13);
- ``ald_end_null``: an open end left NULL instead of ``1600-01-01``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sndskit.synthetic import truth
from sndskit.synthetic.arrays import MISSING_DATE, NO_DATE, take_strings, year_start
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.population import Population
from sndskit.synthetic.schema import build_table

EXONERATING_MOTIVES = (41, 43, 45)
OTHER_EXONERATING = ((43, 99), (45, 99))  # (IMB_ETM_NAT, IMB_ALD_NUM: 99 off-list, IR_ALD_V)
NOT_ALD_MOTIVES = (11, 12, 13)
NON_EXONERATING_MOTIVES = (47, 21)  # with the condition's code
PREGNANCY_MOTIVE = 55
# trap codes of the registrations
A_REAL, A_NOT_ALD, A_NON_EXONERATING = 0, 1, 2
TRAP_NAMES = {A_NOT_ALD: "ald_not_ald", A_NON_EXONERATING: "ald_non_exonerating"}
END_CODINGS = ("date", "1600-01-01", "null")


def build_ir_imb_r(
    ctx: GenerationContext,
    rng: np.random.Generator,
    pop: Population,
    ald: dict[str, np.ndarray],
    conditions: dict,
    psa: pa.Array,
) -> tuple[pa.Table, dict[str, np.ndarray]]:
    """IR_IMB_R rows: module ALD registrations (motives 41/43/45) and the motive traps."""
    keep = (ald["start"] <= ctx.end) & (ald["start"] < pop.death[ald["person"]])
    rows = {k: v[keep] for k, v in ald.items()}
    rows["trap"] = np.full(len(rows["person"]), A_REAL, dtype=np.int8)
    _other_motives(ctx, rng, rows)
    parts = [rows, _not_ald(ctx, rng, pop), _non_exonerating(ctx, rng, pop, rows, conditions)]
    rows = {k: np.concatenate([p[k] for p in parts]) for k in rows}
    open_end = rows["end"] == MISSING_DATE
    rows["end_null"] = open_end & (rng.random(len(open_end)) < ctx.config.traps.ald_end_null)
    identity = pop.identity_on(rows["person"], rows["start"], rng)
    n = len(identity)
    columns = {
        "BEN_NIR_PSA": psa.take(pa.array(identity.astype(np.int64))),
        "BEN_RNG_GEM": pop.id_rng[identity].astype(np.int64),
        "IMB_ALD_NUM": rows["number"].astype(np.int64),
        "IMB_ALD_DTD": rows["start"],
        "IMB_ALD_DTF": (rows["end"], rows["end_null"]),
        "IMB_ETM_NAT": rows["etm"].astype(np.int64),
        "MED_MTF_COD": take_strings(ctx.icd, rows["code"]),
        "MED_NCL_IDT": np.full(n, "CIM10", dtype=object),
        "INS_DTE": rows["start"] + 7,
    }
    rows["identity"] = identity
    return build_table(ctx.schemas["IR_IMB_R"], columns, n), rows


def _other_motives(ctx: GenerationContext, rng, rows) -> None:
    """Some module ALD are registered as off-list (43) or polypathology (45)."""
    n = len(rows["person"])
    other = rng.random(n) < ctx.config.traps.ald_other_exonerating
    which = rng.integers(0, len(OTHER_EXONERATING), n)
    for k, (etm, number) in enumerate(OTHER_EXONERATING):
        sel = other & (which == k)
        rows["etm"][sel] = etm
        rows["number"][sel] = number


def _rows(person, number, start, end, code, etm, module, trap) -> dict[str, np.ndarray]:
    k = len(person)
    return {
        "person": person.astype(np.int32),
        "number": np.broadcast_to(np.asarray(number, dtype=np.int16), (k,)).copy(),
        "start": start.astype(np.int32),
        "end": end.astype(np.int32),
        "code": code.astype(np.int32),
        "etm": np.broadcast_to(np.asarray(etm, dtype=np.int16), (k,)).copy(),
        "module": np.broadcast_to(np.asarray(module, dtype=np.int8), (k,)).copy(),
        "trap": np.full(k, trap, dtype=np.int8),
    }


def _not_ald(ctx: GenerationContext, rng, pop: Population) -> dict[str, np.ndarray]:
    """Exonerations that are not ALD: work accident, occupational disease, invalidity."""
    candidates = np.flatnonzero(~pop.fictitious)
    k = int(rng.binomial(len(candidates), ctx.config.traps.ald_not_ald))
    person = candidates[rng.integers(0, len(candidates), k)].astype(np.int32)
    etm = np.array(NOT_ALD_MOTIVES, dtype=np.int16)[rng.integers(0, 3, k)]
    code = np.empty(k, dtype=np.int32)
    for e in NOT_ALD_MOTIVES:
        sel = etm == e
        code[sel] = ctx.non_ald[e].sample(rng, int(sel.sum()))
    last = np.minimum(pop.death[person] - 1, ctx.end)
    start = (last - rng.random(k) * 8 * 365.25).astype(np.int32)
    end = np.where(rng.random(k) < 0.5, MISSING_DATE, start + 730)
    return _rows(person, 0, start, end, code, etm, 0, A_NOT_ALD)


def _non_exonerating(ctx: GenerationContext, rng, pop: Population, real, conditions):
    """Rows under a non-exonerating motive, for persons without an ALD for that condition."""
    rate = ctx.config.traps.ald_non_exonerating
    parts = []
    for m in ctx.modules:
        if m.definition.ald is None:
            continue
        cases = np.flatnonzero(conditions["module"] == m.index)
        person = conditions["person"][cases]
        with_ald = real["person"][real["module"] == m.index]
        cases = cases[~np.isin(person, with_ald) & (rng.random(len(cases)) < rate)]
        person = conditions["person"][cases]
        start = conditions["onset"][cases] + rng.integers(60, 731, len(cases))
        ok = (start <= ctx.end) & (start < pop.death[person])
        person, start = person[ok], start[ok].astype(np.int32)
        k = len(person)
        end = np.where(rng.random(k) < 0.5, MISSING_DATE, start + rng.integers(365, 1826, k))
        etm = np.array(NON_EXONERATING_MOTIVES)[(rng.random(k) < 0.3).astype(np.intp)]
        code = m.ald_codes.sample(rng, k)
        parts.append(_rows(person, 0, start, end, code, etm, m.index, A_NON_EXONERATING))
    parts.append(_pregnancies(ctx, rng, pop, rate))
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _pregnancies(ctx: GenerationContext, rng, pop: Population, rate: float):
    """Maternity exonerations (motive 55) of women of 18-45: a tenth of the trap's rate."""
    start = ctx.start + (rng.random(pop.n) * (ctx.end - ctx.start)).astype(np.int32)
    age = pop.age(start)
    women = (pop.sex == 2) & ~pop.fictitious & (age >= 18) & (age < 45) & (start < pop.death)
    sel = np.flatnonzero(women & (rng.random(pop.n) < rate / 10))
    code = ctx.non_ald[PREGNANCY_MOTIVE].sample(rng, len(sel))
    start = start[sel]
    return _rows(sel, 0, start, start + 120, code, PREGNANCY_MOTIVE, 0, A_NON_EXONERATING)


# -- truth -----------------------------------------------------------------------------
def ald_truth(ctx: GenerationContext, rows, pop: Population, psa, idt) -> dict[str, pa.Table]:
    """``ald`` (one row per IR_IMB_R row), ``ald_in_force`` and ``traps_ald``."""
    names = truth.module_names(ctx)
    n = len(rows["person"])
    exonerating = np.isin(rows["etm"], EXONERATING_MOTIVES)
    open_end = rows["end"] == MISSING_DATE
    coding = np.where(open_end, np.where(rows["end_null"], 2, 1), 0)
    condition = names[rows["module"]]
    module_less = rows["module"] == 0
    person_ids = idt.take(pa.array(rows["person"].astype(np.int64)))
    identity = pa.array(rows["identity"].astype(np.int64))
    trap_name = np.array([TRAP_NAMES.get(int(t)) for t in rows["trap"]], dtype=object)
    ald = truth.table(
        "ald",
        {
            "BEN_IDT_ANO": person_ids,
            "BEN_NIR_PSA": psa.take(identity),
            "BEN_RNG_GEM": pop.id_rng[rows["identity"]].astype(np.int64),
            "condition": (condition, module_less),
            "MED_MTF_COD": take_strings(ctx.icd, rows["code"]),
            "IMB_ALD_NUM": rows["number"].astype(np.int64),
            "IMB_ETM_NAT": rows["etm"].astype(np.int64),
            "exonerating": exonerating,
            "start_date": rows["start"],
            "end_date": (np.where(open_end, 0, rows["end"]), open_end),
            "end_coding": np.array(END_CODINGS, dtype=object)[coding],
            "trap": (trap_name, trap_name == None),  # noqa: E711
        },
        n,
    )
    sel = pa.array(np.flatnonzero(rows["trap"] > 0))
    traps = truth.table(
        "traps_ald",
        {
            "trap": ald["trap"].take(sel),
            "BEN_NIR_PSA": ald["BEN_NIR_PSA"].take(sel),
            "BEN_RNG_GEM": ald["BEN_RNG_GEM"].take(sel),
            "IMB_ALD_DTD": ald["start_date"].take(sel),
            "IMB_ETM_NAT": ald["IMB_ETM_NAT"].take(sel),
            "MED_MTF_COD": ald["MED_MTF_COD"].take(sel),
            "BEN_IDT_ANO": ald["BEN_IDT_ANO"].take(sel),
        },
        len(sel),
    )
    return {
        "ald": ald,
        "ald_in_force": _in_force(ctx, rows, exonerating, names, idt),
        "traps_ald": traps,
    }


def _in_force(ctx: GenerationContext, rows, exonerating, names, idt) -> pa.Table:
    """(person, condition, year) for every exonerating module ALD in force that year."""
    end = np.where(rows["end"] == MISSING_DATE, NO_DATE, rows["end"])
    idx_parts, year_parts = [], []
    for year in ctx.years:
        first, last = year_start(year), year_start(year + 1) - 1
        sel = np.flatnonzero(
            exonerating & (rows["module"] > 0) & (rows["start"] <= last) & (end >= first)
        )
        idx_parts.append(sel)
        year_parts.append(np.full(len(sel), year, dtype=np.int32))
    idx = np.concatenate(idx_parts)
    return truth.table(
        "ald_in_force",
        {
            "BEN_IDT_ANO": idt.take(pa.array(rows["person"][idx].astype(np.int64))),
            "condition": names[rows["module"][idx]],
            "year": np.concatenate(year_parts),
            "MED_MTF_COD": take_strings(ctx.icd, rows["code"][idx]),
            "start_date": rows["start"][idx],
            "end_date": (np.where(end[idx] >= NO_DATE, 0, end[idx]), end[idx] >= NO_DATE),
        },
        len(idx),
    )
