"""Beneficiaries (IR_BEN_R), long-term conditions (IR_IMB_R) and causes of death (KI_CCI_R)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sndskit.synthetic.arrays import (
    MISSING_DATE,
    NO_DATE,
    day,
    keyed_hash,
    month_index,
    month_start,
    pseudonyms,
    strings_from_matrix,
    take_strings,
    yearmonth,
    years_of,
)
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.population import CDI_CODES, KIND_DEFINITIVE, Population

ALD_TRAP_ETM = (11, 12, 13)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def build_ir_ben_r(
    ctx: GenerationContext, pop: Population, psa: pa.Array, idt: pa.Array
) -> pa.Table:
    person = pop.id_person
    n = len(person)
    known = pop.nir_ano_known()[person]
    nir_ano = pop.nir_ano().take(pa.array(person.astype(np.int64)))
    child = pop.age(ctx.start, person) < 18
    opener_keys = (person.astype(np.uint64) + np.uint64(pop.first)) * np.uint64(4) + np.uint64(2)
    opener = pc.if_else(pa.array(child), pseudonyms(pop.seed, opener_keys), nir_ano)
    death = pop.death[person]
    dead = death < NO_DATE
    inserted = np.maximum(pop.birth[person], day("2006-01-01"))
    inserted = np.where(pop.id_kind == KIND_DEFINITIVE, pop.switch_day[person], inserted)
    org_flat, org_off = _orgs(ctx)
    columns = {
        "BEN_NIR_PSA": psa,
        "BEN_RNG_GEM": pop.id_rng.astype(np.int64),
        "BEN_NIR_ANO": pc.if_else(pa.array(known), nir_ano, pa.scalar(None, pa.string())),
        "BEN_IDT_ANO": idt.take(pa.array(person.astype(np.int64))),
        "BEN_IDT_TOP": known,
        "ASS_NIR_ANO": pc.if_else(pa.array(known | child), opener, pa.scalar(None, pa.string())),
        "BEN_CDI_NIR": take_strings(CDI_CODES, pop.id_cdi),
        "BEN_NAI_ANN": years_of(pop.birth[person]).astype(np.int32),
        "BEN_NAI_MOI": month_start(month_index(pop.birth[person])),
        "BEN_SEX_COD": pop.sex[person].astype(np.int64),
        "BEN_DCD_DTE": np.where(dead, death, MISSING_DATE),
        "BEN_DCD_AME": yearmonth(np.where(dead, death, MISSING_DATE)),
        "ORG_AFF_BEN": take_strings(org_flat, org_off[pop.department[person]] + pop.org[person]),
        "BEN_RES_DPT": take_strings(ctx.population.departments, pop.department[person]),
        "BEN_DTE_INS": inserted,
        "BEN_DTE_MAJ": np.full(n, ctx.end, dtype=np.int32),
    }
    return _table(ctx, "IR_BEN_R", columns, n)


def build_ir_imb_r(
    ctx: GenerationContext,
    rng: np.random.Generator,
    pop: Population,
    ald: dict[str, np.ndarray],
    psa: pa.Array,
) -> tuple[pa.Table, dict[str, np.ndarray]]:
    """ALD registrations, plus exonerations that are not ALD (trap ``ald_not_ald``)."""
    keep = (ald["start"] <= ctx.end) & (ald["start"] < pop.death[ald["person"]])
    rows = {k: v[keep] for k, v in ald.items()}
    traps = ctx.config.traps
    candidates = np.flatnonzero(~pop.fictitious)
    k = int(rng.binomial(len(candidates), traps.ald_not_ald))
    if k:
        person = candidates[rng.integers(0, len(candidates), k)].astype(np.int32)
        etm = np.array(ALD_TRAP_ETM, dtype=np.int16)[rng.integers(0, 3, k)]
        code = np.empty(k, dtype=np.int32)
        for e in ALD_TRAP_ETM:
            sel = etm == e
            code[sel] = ctx.non_ald[e].sample(rng, int(sel.sum()))
        last = np.minimum(pop.death[person] - 1, ctx.end)
        start = (last - rng.random(k) * 8 * 365.25).astype(np.int32)
        trap_rows = {
            "person": person,
            "number": np.zeros(k, dtype=np.int16),
            "start": start,
            "end": np.where(rng.random(k) < 0.5, MISSING_DATE, start + 730).astype(np.int32),
            "code": code,
            "etm": etm,
            "module": np.zeros(k, dtype=np.int8),
            "trap": np.ones(k, dtype=bool),
        }
        rows = {key: np.concatenate([rows[key], trap_rows[key]]) for key in rows}
    identity = pop.identity_on(rows["person"], rows["start"], rng)
    n = len(identity)
    columns = {
        "BEN_NIR_PSA": psa.take(pa.array(identity.astype(np.int64))),
        "BEN_RNG_GEM": pop.id_rng[identity].astype(np.int64),
        "IMB_ALD_NUM": rows["number"].astype(np.int64),
        "IMB_ALD_DTD": rows["start"],
        "IMB_ALD_DTF": rows["end"],
        "IMB_ETM_NAT": rows["etm"].astype(np.int64),
        "MED_MTF_COD": take_strings(ctx.icd, rows["code"]),
        "MED_NCL_IDT": np.full(n, "CIM10", dtype=object),
        "INS_DTE": rows["start"] + 7,
    }
    rows["identity"] = identity
    return _table(ctx, "IR_IMB_R", columns, n), rows


def build_ki_cci_r(
    ctx: GenerationContext, rng: np.random.Generator, pop: Population, idt: pa.Array
) -> tuple[pa.Table, np.ndarray]:
    """One certificate per death in the period (real persons only)."""
    dead = np.flatnonzero((pop.death <= ctx.end) & ~pop.fictitious)
    n = len(dead)
    cause = pop.death_cause[dead].copy()
    missing = cause < 0
    cause[missing] = ctx.background_cause.sample(rng, int(missing.sum()))
    pop.death_cause[dead] = cause
    death = pop.death[dead]
    age = pop.age(death, dead)
    place = np.where(pop.died_in_hospital[dead], 2, np.where(age >= 85, 4, 1))
    year = years_of(death)
    known = pop.nir_ano_known()[dead]
    columns = {
        "BEN_IDT_ANO": idt.take(pa.array(dead.astype(np.int64))),
        "BEN_NIR_ANO": pc.if_else(
            pa.array(known),
            pop.nir_ano().take(pa.array(dead.astype(np.int64))),
            pa.scalar(None, pa.string()),
        ),
        "BEN_IDT_TOP": known.astype(np.int64),
        "DCD_IDT_ENC": _hex_ids(pop.seed, dead.astype(np.uint64) + np.uint64(pop.first)),
        "DCD_IDT_TOP": np.ones(n, dtype=np.int64),
        "FLX_PER_ANN": year.astype(np.int32),
        "BEN_DCD_DTE": death,
        "BEN_DCD_AME": yearmonth(death),
        "DCD_CIM_COD": take_strings(ctx.icd, cause),
        "BEN_NAI_ANN": years_of(pop.birth[dead]).astype(np.int32),
        "BEN_NAI_MOI": month_start(month_index(pop.birth[dead])),
        "BEN_SEX_COD": pop.sex[dead].astype(np.int64),
        "DCD_DPT_COD": take_strings(ctx.population.departments, pop.department[dead]),
        "BEN_RES_DPT": take_strings(ctx.population.departments, pop.department[dead]),
        "DCD_LIE_COD": place.astype(np.int64),
        "TYP_CER_COD": np.ones(n, dtype=np.int64),
        "CER_VER_NUM": np.where(year >= 2018, 2, 1).astype(np.int64),
        "TRT_STA_COD": np.ones(n, dtype=np.int64),
    }
    return _table(ctx, "KI_CCI_R", columns, n), dead


def _hex_ids(seed: int, values: np.ndarray) -> pa.StringArray:
    """64 hexadecimal characters (the shape of an encoded death identifier)."""
    parts = []
    h = keyed_hash(seed + 7, values)
    for _ in range(4):
        parts.append(np.stack([(h >> np.uint64(4 * k)) & np.uint64(15) for k in range(16)], axis=1))
        h = keyed_hash(seed + 7, h)
    return strings_from_matrix(_HEX[np.concatenate(parts, axis=1).astype(np.intp)])


def _orgs(ctx: GenerationContext) -> tuple[list[str], np.ndarray]:
    flat: list[str] = []
    offsets = []
    for codes in ctx.population.org_codes:
        offsets.append(len(flat))
        flat.extend(codes)
    return flat, np.array(offsets, dtype=np.int64)


def _table(ctx: GenerationContext, template: str, columns: dict, n: int) -> pa.Table:
    from sndskit.synthetic.schema import build_table

    return build_table(ctx.schemas[template], columns, n)
