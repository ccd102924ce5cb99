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
from sndskit.synthetic import truth_tables as tt
from sndskit.synthetic.ace import build_ace, outpatient_table
from sndskit.synthetic.ald import ald_truth, build_ir_imb_r
from sndskit.synthetic.arrays import NO_DATE
from sndskit.synthetic.background import run_background
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.dcir import build_dcir
from sndskit.synthetic.deaths import death_sources, deaths_table, recorded_death
from sndskit.synthetic.drugs import dispense, merge_episodes
from sndskit.synthetic.events import ChunkEvents
from sndskit.synthetic.modules.disease import run_module
from sndskit.synthetic.pmsi import build_pmsi
from sndskit.synthetic.population import generate_population
from sndskit.synthetic.referentials import build_ir_ben_r, build_ki_cci_r
from sndskit.synthetic.ssr import build_ssr, rehabilitation_table

# random streams of a chunk (fixed numbers: adding a module does not shift the others)
S_POPULATION, S_BACKGROUND, S_DRUGS, S_PMSI, S_DCIR, S_REFERENTIALS, S_DEATHS, S_SSR = range(1, 9)
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
    ssr = build_ssr(ctx, _rng(seed, chunk, S_SSR), pop, pmsi.stays, conditions, chunk)
    deaths = death_sources(ctx, _rng(seed, chunk, S_DEATHS), pop, pmsi.stays)
    pop.recorded_death = recorded_death(pop, deaths, np.arange(pop.n))
    lines = events.lines.build()
    dcir = build_dcir(ctx, _rng(seed, chunk, S_DCIR), pop, lines, pmsi, chunk)

    rng_ref = _rng(seed, chunk, S_REFERENTIALS)
    psa = pop.nir_psa()
    idt = pop.idt_ano(psa)
    ki = build_ki_cci_r(ctx, rng_ref, pop, idt, deaths.in_ki_cci_r)
    imb, ald_rows = build_ir_imb_r(ctx, rng_ref, pop, events.ald.build(), conditions, psa)
    tables = build_ir_ben_r(ctx, pop, psa, idt)
    tables.update({"IR_IMB_R": imb, "KI_CCI_R": ki})
    tables.update(dcir.tables)
    tables.update(pmsi.tables)
    tables.update(ssr.tables)
    tables.update(build_ace(ctx, pop, dcir.information_lines, chunk))

    truth_tables = {
        "persons": truth.persons_table(ctx, pop, idt),
        "identities": truth.identities_table(ctx, pop, psa, idt),
        "conditions": tt.conditions_table(ctx, conditions, ald_rows, merged, idt),
        "exposures": tt.exposures_table(ctx, merged, episodes, lines, idt),
        "dispensings": tt.dispensings_table(ctx, dcir.truth_dispensings, pop, psa, idt),
        "biology": tt.biology_table(ctx, dcir.truth_biology, pop, psa, idt),
        "procedures": tt.procedures_table(ctx, pmsi, dcir.truth_procedures, idt),
        "hospital_drugs": tt.hospital_drugs_table(ctx, pmsi, idt),
        "consultations": tt.consultations_table(ctx, dcir.truth_consultations, idt),
        "stays": tt.stays_table(ctx, pmsi, idt),
        "rehabilitation_stays": rehabilitation_table(ctx, ssr, pmsi.stays, idt),
        "outpatient_care": outpatient_table(ctx, dcir.information_lines, chunk, idt),
        "deaths": deaths_table(pop, deaths, idt),
        "traps_dcir": tt.dcir_traps_table(dcir.truth_traps, idt),
        "traps_pmsi": tt.pmsi_traps_table(ctx, pmsi, pop, idt),
        "traps_persons": truth.person_traps_table(ctx, pop, psa, idt),
        **ald_truth(ctx, ald_rows, pop, psa, idt),
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
    return c


__all__ = ["ChunkOutput", "generate_chunk"]
