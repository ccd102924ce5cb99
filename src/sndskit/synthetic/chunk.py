"""Generate one chunk of persons: population → modules → background care → tables + truth.

A chunk is the unit of memory and of randomness: its random streams derive from
``(seed, chunk index, stream)``, so a chunk's data do not depend on other chunks, on the
number of workers or on the number of persons generated after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sndskit.synthetic import truth
from sndskit.synthetic.arrays import NO_DATE, digits, take_strings, years_of
from sndskit.synthetic.background import run_background
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.dcir import build_dcir
from sndskit.synthetic.drugs import dispense, merge_episodes
from sndskit.synthetic.events import ChunkEvents
from sndskit.synthetic.modules.engine import run_module
from sndskit.synthetic.pmsi import TRAP_NAMES, build_pmsi, ret_column_names
from sndskit.synthetic.population import generate_population
from sndskit.synthetic.referentials import build_ir_ben_r, build_ir_imb_r, build_ki_cci_r

# random streams of a chunk (fixed numbers: adding a module does not shift the others)
S_POPULATION, S_BACKGROUND, S_DRUGS, S_PMSI, S_DCIR, S_REFERENTIALS = 1, 2, 3, 4, 5, 6
S_MODULE_BASE = 100


@dataclass
class ChunkOutput:
    tables: dict[str, pa.Table]  # physical SNDS table name → rows
    truth: dict[str, pa.Table]


def _rng(seed: int, chunk: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(chunk, stream)))


def generate_chunk(ctx: GenerationContext, chunk: int, first: int, n: int) -> ChunkOutput:
    seed = ctx.config.seed
    pop = generate_population(ctx, _rng(seed, chunk, S_POPULATION), first, n)
    events = ChunkEvents()
    for plan in ctx.modules:
        stream = S_MODULE_BASE + _module_stream(plan.id)
        run_module(ctx, _rng(seed, chunk, stream), pop, events, plan)
    run_background(ctx, _rng(seed, chunk, S_BACKGROUND), pop, events)
    # a death after the period (a stay running over its end) is not observed
    after = (pop.death > ctx.end) & (pop.death < NO_DATE)
    pop.death[after] = NO_DATE
    pop.death_cause[after] = -1
    pop.death_module[after] = 0
    pop.died_in_hospital[after] = False

    conditions = _final_conditions(ctx, pop, events)
    rng_drugs = _rng(seed, chunk, S_DRUGS)
    episodes = events.episodes.build()
    merged = merge_episodes(ctx, rng_drugs, episodes, pop)
    dispense(ctx, rng_drugs, merged, events.lines)
    pmsi = build_pmsi(ctx, _rng(seed, chunk, S_PMSI), pop, events, conditions, chunk)
    acts = events.stay_acts.build()
    first_acts = _first_acts(acts)
    lines = events.lines.build()
    dcir = build_dcir(ctx, _rng(seed, chunk, S_DCIR), pop, lines, pmsi, first_acts, chunk)

    rng_ref = _rng(seed, chunk, S_REFERENTIALS)
    psa = pop.nir_psa()
    idt = pop.idt_ano(psa)
    ki, _ = build_ki_cci_r(ctx, rng_ref, pop, idt)
    imb, ald_rows = build_ir_imb_r(ctx, rng_ref, pop, events.ald.build(), psa)
    tables = {"IR_BEN_R": build_ir_ben_r(ctx, pop, psa, idt), "IR_IMB_R": imb, "KI_CCI_R": ki}
    tables.update(dcir.tables)
    tables.update(pmsi.tables)

    truth_tables = {
        "persons": truth.persons_table(ctx, pop, idt),
        "identities": truth.identities_table(ctx, pop, psa, idt),
        "conditions": _conditions_table(ctx, conditions, ald_rows, merged, idt),
        "exposures": _exposures_table(ctx, merged, episodes, lines, idt),
        "dispensings": _dispensings_table(ctx, dcir.truth_dispensings, pop, psa, idt),
        "stays": _stays_table(ctx, pmsi, idt),
        "traps_dcir": _dcir_traps_table(dcir.truth_traps, idt),
        "traps_pmsi": _pmsi_traps_table(ctx, pmsi, idt),
        "traps_persons": truth.person_traps_table(pop, psa, idt),
        "traps_ald": _ald_traps_table(ald_rows, pop, psa, idt, ctx),
    }
    return ChunkOutput(tables=tables, truth=truth_tables)


def _module_stream(module_id: str) -> int:
    from sndskit.synthetic.spec import MODULE_IDS

    return MODULE_IDS.index(module_id)


def _final_conditions(ctx, pop, events: ChunkEvents) -> dict:
    """Conditions whose onset precedes death, with a per-module dense look-up by person."""
    c = events.conditions.build()
    keep = c["onset"] < pop.death[c["person"]]
    c = {k: v[keep] for k, v in c.items()}
    c["end"] = np.minimum(c["end"], pop.death[c["person"]])
    index = {}
    has = {}
    for m in ctx.modules:
        arr = np.full(pop.n, -1, dtype=np.int64)
        sel = np.flatnonzero(c["module"] == m.index)
        arr[c["person"][sel]] = sel
        index[m.index] = arr
        has[m.index] = arr >= 0
    c["index"] = index
    c["has"] = has
    c["code"] = c["code"]
    return c


def _first_acts(acts: dict[str, np.ndarray]) -> dict[int, int]:
    if len(acts["stay"]) == 0:
        return {}
    stay, first = np.unique(acts["stay"], return_index=True)
    return dict(zip(stay.tolist(), acts["code"][first].tolist(), strict=True))


def _ids(idt: pa.Array, persons: np.ndarray) -> pa.Array:
    return idt.take(pa.array(persons.astype(np.int64)))


def _conditions_table(ctx, c, ald_rows, merged, idt) -> pa.Table:
    n = len(c["person"])
    names = truth.module_names(ctx)
    ald_number = np.full(n, -1, dtype=np.int64)
    ald_start = np.zeros(n, dtype=np.int64)
    real = ~ald_rows["trap"]
    for m in ctx.modules:
        sel = np.flatnonzero(real & (ald_rows["module"] == m.index))
        rows = c["index"][m.index][ald_rows["person"][sel]]
        ok = rows >= 0
        ald_number[rows[ok]] = ald_rows["number"][sel][ok]
        ald_start[rows[ok]] = ald_rows["start"][sel][ok]
    key = c["person"].astype(np.int64) * 64 + c["module"]
    treated_keys = np.unique(merged.person.astype(np.int64) * 64 + merged.module)
    treated = np.isin(key, treated_keys)
    end, end_null = truth._date_or_null(c["end"])
    return truth.table(
        "conditions",
        {
            "BEN_IDT_ANO": _ids(idt, c["person"]),
            "condition": names[c["module"]],
            "onset_date": c["onset"],
            "end_date": (end, end_null),
            "prevalent_at_start": c["prevalent"],
            "icd10": take_strings(ctx.icd, c["code"]),
            "ald_number": (ald_number, ald_number < 0),
            "ald_start": (ald_start, ald_number < 0),
            "treated": treated,
        },
        n,
    )


def _exposures_table(ctx, merged, episodes, lines, idt) -> pa.Table:
    names = truth.module_names(ctx)
    counts = np.bincount(lines["episode"][lines["episode"] >= 0], minlength=len(merged.person))
    n = len(merged.person)
    end, end_null = truth._date_or_null(merged.end)
    town = {
        "person": merged.person,
        "condition": names[merged.module],
        "drug": np.array(ctx.boxes.drug_ids, dtype=object)[merged.drug],
        "atc": np.array(ctx.boxes.drug_atc, dtype=object)[merged.drug],
        "start": merged.start,
        "end": end,
        "end_null": end_null,
        "code": np.array(ctx.boxes.cip13, dtype=object)[merged.box],
        "count": counts[:n].astype(np.int32),
    }
    hosp = episodes["drug"] < 0
    module = episodes["module"][hosp]
    hospital_ids = {
        m.index: m.definition.hospital_drug for m in ctx.modules if m.definition.hospital_drug
    }
    h = {
        "person": episodes["person"][hosp],
        "condition": names[module],
        "drug": np.array([hospital_ids[int(x)].id for x in module], dtype=object),
        "atc": np.array([hospital_ids[int(x)].atc[0] for x in module], dtype=object),
        "start": episodes["start"][hosp],
        "end": episodes["end"][hosp],
        "end_null": np.zeros(int(hosp.sum()), dtype=bool),
        "code": np.full(int(hosp.sum()), None, dtype=object),
        "count": np.zeros(int(hosp.sum()), dtype=np.int32),
    }
    allx = {k: np.concatenate([town[k], h[k]]) for k in town}
    return truth.table(
        "exposures",
        {
            "BEN_IDT_ANO": _ids(idt, allx["person"]),
            "condition": allx["condition"],
            "drug": allx["drug"],
            "atc": allx["atc"],
            "start_date": allx["start"],
            "end_date": (allx["end"], allx["end_null"]),
            "code": (allx["code"], allx["code"] == None),  # noqa: E711
            "dispensings_in_period": allx["count"],
        },
        len(allx["person"]),
    )


def _dispensings_table(ctx, d, pop, psa, idt) -> pa.Table:
    if not d or len(d["person"]) == 0:
        return truth.table("dispensings", {}, 0)
    n = len(d["person"])
    names = truth.module_names(ctx)
    is_ucd = d["is_ucd"]
    box = np.where(is_ucd, 0, d["code"])
    drug_of_box = ctx.box_arrays["drug"][box].astype(np.int32)
    drug_names = list(ctx.boxes.drug_ids)
    atcs = list(ctx.boxes.drug_atc)
    # hospital drugs get their own entries after the town drugs
    hospital = {
        m.index: m.definition.hospital_drug for m in ctx.modules if m.definition.hospital_drug
    }
    for mi, h in hospital.items():
        sel = is_ucd & (d["module"] == mi)
        drug_of_box[sel] = len(drug_names)
        drug_names.append(h.id)
        atcs.append(h.atc[0])
    n_box = len(ctx.boxes.cip13)
    code_index = np.where(is_ucd, n_box + d["code"], box)
    cols = {k: d[k] for k in truth.SCHEMAS["dispensings"].names if k in d}
    cols.update(
        {
            "BEN_IDT_ANO": _ids(idt, d["person"]),
            "BEN_NIR_PSA": psa.take(pa.array(d["identity"].astype(np.int64))),
            "BEN_RNG_GEM": pop.id_rng[d["identity"]].astype(np.int64),
            "date": d["date"],
            "condition": take_strings(names, d["module"]),
            "drug": take_strings(drug_names, drug_of_box),
            "atc": take_strings(atcs, drug_of_box),
            "code": take_strings(list(ctx.boxes.cip13) + list(ctx.ucd), code_index),
            "quantity": d["qty"].astype(np.int64),
        }
    )
    return truth.table("dispensings", cols, n)


def _stays_table(ctx, pmsi, idt) -> pa.Table:
    s = pmsi.stays
    true = s["trap"] == 0
    idx = np.flatnonzero(true)
    names = truth.module_names(ctx)
    discharge = s["admission"][idx] + s["los"][idx]
    year = years_of(discharge)
    return truth.table(
        "stays",
        {
            "BEN_IDT_ANO": _ids(idt, s["person"][idx]),
            "condition": names[s["module"][idx]],
            "kind": np.array(truth.STAY_KINDS, dtype=object)[s["kind"][idx]],
            "table_name": np.array([f"T_MCO{y % 100:02d}B" for y in year], dtype=object),
            "ETA_NUM": take_strings(ctx.hospitals.finess, s["eta"][idx]),
            "RSA_NUM": digits(s["rsa"][idx], 10),
            "admission_date": s["admission"][idx],
            "discharge_date": discharge,
            "DGN_PAL": take_strings(ctx.icd, s["dp"][idx]),
            "sector": take_strings(
                ["private", "public"], ctx.hospitals.public[s["eta"][idx]].astype(np.int32)
            ),
            "died": s["died"][idx],
        },
        len(idx),
    )


def _dcir_traps_table(t, idt) -> pa.Table:
    if not t:
        return truth.table("traps_dcir", {}, 0)
    cols = {k: v for k, v in t.items() if k not in ("person",)}
    cols["BEN_IDT_ANO"] = _ids(idt, t["person"])
    cols["detail_ord"] = (t["detail_ord"], t["detail_ord"] < 0)
    return truth.table("traps_dcir", cols, len(t["person"]))


def _pmsi_traps_table(ctx, pmsi, idt) -> pa.Table:
    s = pmsi.stays
    idx = np.flatnonzero(s["trap"] > 0)
    year = years_of(s["admission"][idx] + s["los"][idx])
    column = np.full(len(idx), None, dtype=object)
    ret = s["ret"][idx]
    for i in np.flatnonzero(ret >= 0):
        column[i] = ret_column_names(year[i] >= 2013)[ret[i]]
    orig = s["of"][idx]  # position of the copied true stay (true stays come first)
    finess = ctx.hospitals.finess
    return truth.table(
        "traps_pmsi",
        {
            "trap": np.array([TRAP_NAMES[int(t)] for t in s["trap"][idx]], dtype=object),
            "table_name": np.array([f"T_MCO{y % 100:02d}B" for y in year], dtype=object),
            "ETA_NUM": take_strings(finess, s["eta"][idx]),
            "RSA_NUM": digits(s["rsa"][idx], 10),
            "column_name": (column, column == None),  # noqa: E711
            "original_ETA_NUM": take_strings(
                finess, np.where(orig >= 0, s["eta"][np.maximum(orig, 0)], -1)
            ),
            "original_RSA_NUM": (
                np.array(digits(s["rsa"][np.maximum(orig, 0)], 10).to_pylist(), dtype=object),
                orig < 0,
            ),
            "BEN_IDT_ANO": _ids(idt, s["person"][idx]),
        },
        len(idx),
    )


def _ald_traps_table(rows, pop, psa, idt, ctx) -> pa.Table:
    sel = np.flatnonzero(rows["trap"])
    return truth.table(
        "traps_ald",
        {
            "trap": np.full(len(sel), "ald_not_ald", dtype=object),
            "BEN_NIR_PSA": psa.take(pa.array(rows["identity"][sel].astype(np.int64))),
            "BEN_RNG_GEM": pop.id_rng[rows["identity"][sel]].astype(np.int64),
            "IMB_ALD_DTD": rows["start"][sel],
            "IMB_ETM_NAT": rows["etm"][sel].astype(np.int64),
            "MED_MTF_COD": take_strings(ctx.icd, rows["code"][sel]),
            "BEN_IDT_ANO": _ids(idt, rows["person"][sel]),
        },
        len(sel),
    )


__all__ = ["ChunkOutput", "generate_chunk"]
