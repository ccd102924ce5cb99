"""Where each death is recorded: IR_BEN_R, the PMSI stay (SOR_MOD = 9), KI_CCI_R.

Each source is incomplete in the real SNDS (primer §5: collect all three). Planted here:
``death_only_in_pmsi`` (an in-hospital death with neither ``BEN_DCD_DTE`` nor a
certificate) and ``death_not_in_ir_ben_r`` (``BEN_DCD_DTE`` left at ``1600-01-01``; the
certificate remains, so an out-of-hospital death is then only in ``KI_CCI_R``). The truth
``deaths`` lists every death of the period with its date and the sources that hold it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sndskit.synthetic import truth
from sndskit.synthetic.arrays import NO_DATE
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.population import Population

SOURCES = ("IR_BEN_R", "PMSI", "KI_CCI_R")


@dataclass
class DeathSources:
    dead: np.ndarray  # per person: died in the period (real persons)
    in_pmsi: np.ndarray  # a true stay ends with the death (SOR_MOD = 9)
    in_ir_ben_r: np.ndarray  # BEN_DCD_DTE filled (IR_BEN_R and DCIR lines)
    in_ki_cci_r: np.ndarray  # a death certificate
    trap: np.ndarray  # 0 none, 1 death_only_in_pmsi, 2 death_not_in_ir_ben_r


TRAP_NAMES = (None, "death_only_in_pmsi", "death_not_in_ir_ben_r")


def death_sources(
    ctx: GenerationContext, rng: np.random.Generator, pop: Population, stays: dict
) -> DeathSources:
    """Draw the sources of each death; ``stays`` are the final PMSI stays."""
    traps = ctx.config.traps
    dead = (pop.death <= ctx.end) & ~pop.fictitious
    in_pmsi = np.zeros(pop.n, dtype=bool)
    in_pmsi[stays["person"][(stays["trap"] == 0) & stays["died"]]] = True
    in_pmsi &= dead
    only_pmsi = in_pmsi & (rng.random(pop.n) < traps.death_only_in_pmsi)
    not_ben = dead & ~only_pmsi & (rng.random(pop.n) < traps.death_not_in_ir_ben_r)
    trap = np.where(only_pmsi, 1, np.where(not_ben, 2, 0)).astype(np.int8)
    return DeathSources(
        dead=dead,
        in_pmsi=in_pmsi,
        in_ir_ben_r=dead & ~only_pmsi & ~not_ben,
        in_ki_cci_r=dead & ~only_pmsi,
        trap=trap,
    )


def recorded_death(pop: Population, sources: DeathSources, persons: np.ndarray) -> np.ndarray:
    """``BEN_DCD_DTE`` as IR_BEN_R and DCIR hold it (day number; NO_DATE when absent)."""
    return np.where(sources.in_ir_ben_r[persons], pop.death[persons], NO_DATE)


def deaths_table(pop: Population, sources: DeathSources, idt: pa.Array) -> pa.Table:
    idx = np.flatnonzero(sources.dead)
    flags = np.stack(
        [sources.in_ir_ben_r[idx], sources.in_pmsi[idx], sources.in_ki_cci_r[idx]], axis=1
    )
    labels = np.array(
        ["+".join(s for s, f in zip(SOURCES, row, strict=True) if f) for row in flags.tolist()],
        dtype=object,
    )
    trap = np.array(TRAP_NAMES, dtype=object)[sources.trap[idx]]
    return truth.table(
        "deaths",
        {
            "BEN_IDT_ANO": idt.take(pa.array(idx.astype(np.int64))),
            "death_date": pop.death[idx],
            "in_ir_ben_r": flags[:, 0],
            "in_pmsi": flags[:, 1],
            "in_ki_cci_r": flags[:, 2],
            "sources": labels,
            "trap": (trap, trap == None),  # noqa: E711
        },
        len(idx),
    )
