"""Shared vectorised steps of the disease modules and the background care."""

from __future__ import annotations

import numpy as np

from sndskit.synthetic.arrays import NO_DATE, repeat_ranges, triangular_days
from sndskit.synthetic.codes import Choice
from sndskit.synthetic.events import ChunkEvents
from sndskit.synthetic.plans import Variants
from sndskit.synthetic.population import Population


def band_of(bands: np.ndarray | tuple, ages: np.ndarray) -> np.ndarray:
    """Index of the age band (lower bounds ``bands``) of each age."""
    b = np.asarray(bands, dtype=np.float64)
    return np.clip(np.searchsorted(b, ages, side="right") - 1, 0, len(b) - 1)


def rate_for(table: np.ndarray, sex: np.ndarray, band: np.ndarray) -> np.ndarray:
    """``table[sex - 1, band]`` for a (2, bands) table."""
    return table[sex.astype(np.intp) - 1, band]


def dates_in_windows(
    rng: np.random.Generator,
    persons: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    rate_per_year: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson events at ``rate_per_year`` in each window [start, end]: (persons, days)."""
    length = np.maximum(ends - starts + 1, 0).astype(np.float64)
    mean = np.asarray(rate_per_year, dtype=np.float64) * length / 365.25
    counts = rng.poisson(np.maximum(mean, 0))
    owner, _ = repeat_ranges(counts)
    days = starts[owner] + (rng.random(len(owner)) * length[owner]).astype(np.int32)
    return persons[owner], days.astype(np.int32)


def apply_deaths(
    pop: Population,
    persons: np.ndarray,
    days: np.ndarray,
    cause: np.ndarray | int,
    module: int,
    in_hospital: bool,
) -> None:
    """Set an earlier death for ``persons`` (the earliest date wins)."""
    if len(persons) == 0:
        return
    order = np.lexsort((days, persons))
    persons, days = persons[order], days[order]
    cause = np.broadcast_to(np.asarray(cause), order.shape)[order]
    first = np.ones(len(persons), dtype=bool)
    first[1:] = persons[1:] != persons[:-1]
    persons, days, cause = persons[first], days[first], cause[first]
    earlier = days < pop.death[persons]
    p = persons[earlier]
    pop.death[p] = days[earlier]
    pop.death_cause[p] = cause[earlier]
    pop.death_module[p] = module
    pop.died_in_hospital[p] = in_hospital


def add_stays(
    events: ChunkEvents,
    rng: np.random.Generator,
    pop: Population,
    persons: np.ndarray,
    admissions: np.ndarray,
    variants: Variants,
    *,
    module: int,
    kind: int,
    diagnosis: np.ndarray | None = None,
    emergency: float = 0.0,
    death_cause: Choice | None = None,
) -> np.ndarray:
    """Stays of the sampled variants; returns the ids of the created stays.

    ``diagnosis`` (ICD index per stay) is the DP of variants whose DP is the person's
    diagnosis. Variants with an age range the person is outside of are redrawn, then
    dropped. A stay may end with the person's death (``SOR_MOD = 9``).
    """
    if len(persons) == 0:
        return np.zeros(0, dtype=np.int32)
    choice = variants.sample(rng, len(persons))
    age = pop.age(admissions, persons)
    for _ in range(3):
        bad = _outside_ages(variants, choice, age)
        if not bad.any():
            break
        choice[bad] = variants.sample(rng, int(bad.sum()))
    keep = ~_outside_ages(variants, choice, age)
    persons, admissions, choice = persons[keep], admissions[keep], choice[keep]
    if diagnosis is not None:
        diagnosis = diagnosis[keep]
    ids = []
    for v, plan in enumerate(variants.plans):
        sel = np.flatnonzero(choice == v)
        if len(sel) == 0:
            continue
        n = len(sel)
        dp = diagnosis[sel] if plan.dp is None else plan.dp.sample(rng, n)
        los = triangular_days(rng, plan.los, n)
        dies = rng.random(n) < plan.death * np.clip(age[keep][sel] / 70, 0.3, 2.0)
        stay_ids = events.add_stays(
            person=persons[sel],
            admission=admissions[sel],
            los=los,
            dp=dp,
            ghm=plan.ghm.sample(rng, n),
            module=module,
            kind=kind,
            death=dies,
            emergency=rng.random(n) < emergency,
            private=rng.random(n) < plan.private_share,
        )
        for code, probability in plan.ccam:
            done = rng.random(n) < probability
            events.stay_acts.add(
                stay=stay_ids[done],
                code=np.full(int(done.sum()), code, dtype=np.int32),
                offset=(rng.random(int(done.sum())) * (los[done] + 1)).astype(np.int16),
            )
        if dies.any():
            cause = (
                death_cause.sample(rng, int(dies.sum())) if death_cause is not None else dp[dies]
            )
            apply_deaths(
                pop, persons[sel][dies], (admissions[sel] + los)[dies], cause, module, True
            )
        ids.append(stay_ids)
    return np.concatenate(ids) if ids else np.zeros(0, dtype=np.int32)


def _outside_ages(variants: Variants, choice: np.ndarray, age: np.ndarray) -> np.ndarray:
    low = np.array([p.min_age for p in variants.plans])[choice]
    high = np.array([p.max_age for p in variants.plans])[choice]
    return (age < low) | (age > high)


def alive_window(
    pop: Population,
    persons: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    period: tuple[int, int],
):
    """Clip windows to the study period and to the person's death (end < start: empty)."""
    s = np.maximum(starts, period[0])
    e = np.minimum(np.minimum(ends, period[1]), pop.death[persons] - 1)
    return s.astype(np.int32), e.astype(np.int32)


def exponential_end(rng: np.random.Generator, starts: np.ndarray, per_year: float) -> np.ndarray:
    """End of a chronic treatment stopped at ``per_year`` hazard (NO_DATE when 0)."""
    if per_year <= 0:
        return np.full(len(starts), NO_DATE, dtype=np.int32)
    days = rng.exponential(365.25 / per_year, len(starts))
    return np.minimum(starts + days, NO_DATE).astype(np.int32)
