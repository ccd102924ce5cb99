"""Drug exposure episodes → town pharmacy dispensings with a realistic refill rhythm.

Overlapping episodes of the same substance (ATC code) for one person are merged first: a
person treated with atorvastatin after an acute coronary syndrome and for primary
prevention gets one treatment, not two. Each merged episode keeps one box; a dispensing
covers about a month (one box of 28-30 units, or several smaller boxes) or three months
(one large box, R5123-2 CSP), and the next one comes when the supply runs out, with a
person-level rhythm, day-to-day jitter and occasional gaps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sndskit.synthetic.arrays import NO_DATE, repeat_ranges, segment_cumsum
from sndskit.synthetic.boxes import MONTH_DAYS_MIN as MONTH_DAYS
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.events import PHARMACY, CareLines
from sndskit.synthetic.population import Population

JITTER_SD = 0.08  # relative day-to-day variation of refill intervals
GAP_PROBABILITY = 0.03  # per refill: the patient runs out and comes back later
GAP_DAYS = (20, 90)


@dataclass
class MergedEpisodes:
    person: np.ndarray
    drug: np.ndarray
    start: np.ndarray
    end: np.ndarray
    module: np.ndarray
    box: np.ndarray
    boxes_per_dispensing: np.ndarray
    interval: np.ndarray  # days between dispensings before jitter


def merge_episodes(
    ctx: GenerationContext,
    rng: np.random.Generator,
    episodes: dict[str, np.ndarray],
    pop: Population,
) -> MergedEpisodes:
    """Union of overlapping episodes of the same ATC code per person."""
    town = episodes["drug"] >= 0
    e = {k: v[town] for k, v in episodes.items()}
    key = ctx.drug_atc_key[e["drug"]].astype(np.int64)
    order = np.lexsort((e["start"], key, e["person"]))
    e = {k: v[order] for k, v in e.items()}
    group = e["person"].astype(np.int64) * 1000 + key[order]
    new_group = np.ones(len(group), dtype=bool)
    new_group[1:] = group[1:] != group[:-1]
    # running maximum of the end within a group (offset per group keeps it monotonic)
    gid = np.cumsum(new_group) - 1
    offset = gid.astype(np.int64) * (2 * int(NO_DATE) + 10)
    running_end = np.maximum.accumulate(e["end"].astype(np.int64) + offset) - offset
    starts_new = new_group.copy()
    starts_new[1:] |= e["start"][1:] > running_end[:-1] + 1
    merged_id = np.cumsum(starts_new) - 1
    first = np.flatnonzero(starts_new)
    last_end = np.maximum.reduceat(e["end"], first) if len(first) else e["end"][:0]
    drug = e["drug"][first]
    large = e["large"][first]
    box = _pick_boxes(ctx, rng, drug, large)
    supply = ctx.box_arrays["supply"][box]
    per = np.where(supply < MONTH_DAYS, np.ceil(MONTH_DAYS / supply), 1).astype(np.int16)
    del merged_id
    return MergedEpisodes(
        person=e["person"][first],
        drug=drug,
        start=e["start"][first],
        end=np.minimum(last_end, pop.death[e["person"][first]] - 1),
        module=e["module"][first],
        box=box,
        boxes_per_dispensing=per,
        interval=supply * per * e["interval_factor"][first],
    )


def _pick_boxes(ctx: GenerationContext, rng, drug: np.ndarray, large: np.ndarray) -> np.ndarray:
    box = np.zeros(len(drug), dtype=np.int32)
    plans = {p.drug: p for m in ctx.modules for p in m.drugs}
    plans.update({p.drug: p for p, _ in ctx.care.chronic})
    for d in np.unique(drug):
        plan = plans[int(d)]
        for is_large, pool in ((False, plan.small), (True, plan.large)):
            sel = np.flatnonzero((drug == d) & (large == is_large))
            if len(sel):
                pool = pool if len(pool) else plan.small
                box[sel] = pool[rng.integers(0, len(pool), len(sel))]
    return box


def dispense(
    ctx: GenerationContext, rng: np.random.Generator, m: MergedEpisodes, lines: CareLines
) -> None:
    """Dispensing dates of every merged episode within the study period."""
    lo = np.maximum(m.start, ctx.start)
    hi = np.minimum(m.end, ctx.end)
    ok = hi >= lo
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return
    interval = m.interval[idx]
    # an episode running before the period is met at a random phase of its rhythm
    ongoing = m.start[idx] < ctx.start
    first = np.where(ongoing, lo[idx] + (rng.random(len(idx)) * interval).astype(np.int32), lo[idx])
    span = np.maximum(hi[idx] - first, 0)
    counts = (np.floor(span / (interval * 0.8)) + 2).astype(np.int64)
    owner, rank = repeat_ranges(counts)
    step = interval[owner] * (1 + rng.normal(0, JITTER_SD, len(owner)))
    gaps = rng.random(len(owner)) < GAP_PROBABILITY
    step = step + gaps * rng.uniform(*GAP_DAYS, len(owner))
    step[rank == 0] = 0
    offsets = segment_cumsum(step, rank == 0)
    days = first[owner] + np.rint(offsets).astype(np.int32)
    keep = days <= hi[idx][owner]
    owner, days = owner[keep], days[keep]
    ep = idx[owner]
    lines.add(
        person=m.person[ep],
        date=days,
        kind=PHARMACY,
        code=m.box[ep],
        qty=m.boxes_per_dispensing[ep],
        module=m.module[ep],
        episode=ep.astype(np.int32),
    )
