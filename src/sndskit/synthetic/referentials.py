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
from sndskit.synthetic.spec import ARCHIVE_YEAR

ARCHIVE_FROM = day(f"{ARCHIVE_YEAR}-01-01")  # IR_BEN_R_ARC: no care since this day
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def build_ir_ben_r(
    ctx: GenerationContext, pop: Population, psa: pa.Array, idt: pa.Array
) -> dict[str, pa.Table]:
    """IR_BEN_R, and IR_BEN_R_ARC for persons without care since 2013 (dead before)."""
    person = pop.id_person
    n = len(person)
    known = pop.nir_ano_known()[person]
    nir_ano = pop.nir_ano().take(pa.array(person.astype(np.int64)))
    child = pop.age(ctx.start, person) < 18
    opener_keys = (person.astype(np.uint64) + np.uint64(pop.first)) * np.uint64(4) + np.uint64(2)
    opener = pc.if_else(pa.array(child), pseudonyms(pop.seed, opener_keys), nir_ano)
    death = pop.recorded_death[person]
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
    table = _table(ctx, "IR_BEN_R", columns, n)
    if not ctx.config.writes_ben_archive:
        return {"IR_BEN_R": table}
    archived = pa.array(archived_identities(pop))
    return {"IR_BEN_R": table.filter(pc.invert(archived)), "IR_BEN_R_ARC": table.filter(archived)}


def archived_identities(pop: Population) -> np.ndarray:
    """Identities of persons without care since 2013: they died before (closed population)."""
    return pop.death[pop.id_person] < ARCHIVE_FROM


def build_ki_cci_r(
    ctx: GenerationContext,
    rng: np.random.Generator,
    pop: Population,
    idt: pa.Array,
    certified: np.ndarray,
) -> pa.Table:
    """One certificate per ``certified`` death (per person) in the period."""
    cause_of = np.flatnonzero((pop.death <= ctx.end) & ~pop.fictitious)
    missing = pop.death_cause[cause_of] < 0
    pop.death_cause[cause_of[missing]] = ctx.background_cause.sample(rng, int(missing.sum()))
    dead = np.flatnonzero(certified)
    n = len(dead)
    cause = pop.death_cause[dead]
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
    return _table(ctx, "KI_CCI_R", columns, n)


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
