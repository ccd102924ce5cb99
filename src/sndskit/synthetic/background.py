"""Care that no disease module explains: visits, common drugs, biology, imaging, nursing,
chronic treatments of other conditions and everyday hospital stays."""

from __future__ import annotations

import numpy as np

from sndskit.synthetic.arrays import NO_DATE, year_start
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.events import (
    BIOLOGY,
    GP,
    IMAGING,
    NURSE,
    PHARMACY,
    SPECIALIST,
    STAY_BACKGROUND,
    VISIT,
    ChunkEvents,
)
from sndskit.synthetic.modules.common import (
    add_stays,
    band_of,
    dates_in_windows,
    exponential_end,
    rate_for,
)
from sndskit.synthetic.plans import Variants
from sndskit.synthetic.population import Population

CHRONIC_STOP_PER_YEAR = 0.08  # background chronic treatments: stop (and start) hazard


def run_background(
    ctx: GenerationContext, rng: np.random.Generator, pop: Population, events: ChunkEvents
) -> None:
    _chronic_treatments(ctx, rng, pop, events)
    _stays(ctx, rng, pop, events)
    for year in ctx.years:
        _town_care(ctx, rng, pop, events, year)


def _year_window(ctx, pop: Population, year: int) -> tuple[np.ndarray, np.ndarray]:
    s = np.full(pop.n, max(year_start(year), ctx.start), dtype=np.int32)
    e = np.minimum(np.full(pop.n, year_start(year + 1) - 1), pop.death - 1).astype(np.int32)
    return s, e


def _town_care(
    ctx: GenerationContext, rng, pop: Population, events: ChunkEvents, year: int
) -> None:
    care = ctx.care
    s, e = _year_window(ctx, pop, year)
    band = band_of(care.bands, pop.age(year_start(year)))
    consumer = rng.random(pop.n) >= care.definition.non_consumer_share
    scale = pop.frailty * consumer
    everyone = np.arange(pop.n, dtype=np.int32)

    def draw(kind: str) -> tuple[np.ndarray, np.ndarray]:
        return dates_in_windows(
            rng, everyone, s, e, rate_for(care.rates[kind], pop.sex, band) * scale
        )

    who, days = draw("gp")
    home = rng.random(len(who)) < care.home_visit_share[band[who]]
    events.lines.add(person=who, date=days, kind=np.where(home, VISIT, GP), qty=1, spe=1)
    who, days = draw("specialist")
    spe = care.specialist_spe[
        np.minimum(
            np.searchsorted(care.specialist_cum, rng.random(len(who)), side="right"),
            len(care.specialist_spe) - 1,
        )
    ]
    events.lines.add(person=who, date=days, kind=SPECIALIST, qty=1, spe=spe)

    who, days = draw("pharmacy")
    n_lines = 1 + rng.poisson(care.definition.extra_drugs_per_visit, len(who))
    visit = np.repeat(np.arange(len(who)), n_lines)
    drug = np.minimum(
        np.searchsorted(care.acute_cum, rng.random(len(visit)), side="right"),
        len(care.acute_boxes) - 1,
    )
    box = np.empty(len(visit), dtype=np.int32)
    for k, boxes in enumerate(care.acute_boxes):
        sel = drug == k
        box[sel] = boxes[rng.integers(0, len(boxes), int(sel.sum()))]
    # the same drug twice on one visit is one line with two boxes
    key = visit.astype(np.int64) * 100_000 + box
    uniq, qty = np.unique(key, return_counts=True)
    v, b = uniq // 100_000, uniq % 100_000
    events.lines.add(
        person=who[v],
        date=days[v],
        kind=PHARMACY,
        code=b.astype(np.int32),
        qty=np.minimum(qty, 3),
        spe=0,
    )

    who, days = draw("biology")
    n_acts = 1 + rng.poisson(care.definition.extra_acts_per_biology, len(who))
    visit = np.repeat(np.arange(len(who)), n_acts)
    codes = care.biology.sample(rng, len(visit))
    uniq = np.unique(visit.astype(np.int64) * 10_000 + codes)
    v, c = uniq // 10_000, (uniq % 10_000).astype(np.int32)
    events.lines.add(person=who[v], date=days[v], kind=BIOLOGY, code=c, qty=1, spe=38)

    who, days = draw("imaging")
    events.lines.add(
        person=who, date=days, kind=IMAGING, code=care.imaging.sample(rng, len(who)), qty=1, spe=6
    )
    m = care.definition.mammography
    age = pop.age(year_start(year))
    women = (pop.sex == 2) & (age >= float(m["min_age"])) & (age <= float(m["max_age"]))
    who, days = dates_in_windows(rng, everyone[women], s[women], e[women], float(m["per_year"]))
    events.lines.add(person=who, date=days, kind=IMAGING, code=care.mammography, qty=1, spe=6)

    who, days = draw("nurse")
    events.lines.add(person=who, date=days, kind=NURSE, qty=1, spe=0)


def _chronic_treatments(ctx: GenerationContext, rng, pop: Population, events: ChunkEvents) -> None:
    """Steady-state users at the start, plus new users during the period."""
    care = ctx.care
    real = ~pop.fictitious
    for drug, prevalence in care.chronic:
        stop_rate = drug.definition.stop_per_year or CHRONIC_STOP_PER_YEAR
        p0 = rate_for(prevalence, pop.sex, band_of(care.bands, pop.age(ctx.start)))
        users = np.flatnonzero(real & (rng.random(pop.n) < p0)).astype(np.int32)
        start = (ctx.start - rng.random(len(users)) * 5 * 365.25).astype(np.int32)
        end = np.maximum(exponential_end(rng, start, stop_rate), ctx.start + 1)
        new_persons, new_start = [], []
        for year in ctx.years:
            first = year_start(year)
            p = rate_for(prevalence, pop.sex, band_of(care.bands, pop.age(first))) * stop_rate
            starts = real & (rng.random(pop.n) < p)
            starts[users] = False
            day = first + rng.integers(0, year_start(year + 1) - first, pop.n)
            ok = starts & (day < pop.death)
            new_persons.append(np.flatnonzero(ok).astype(np.int32))
            new_start.append(day[ok].astype(np.int32))
        p_new = np.concatenate(new_persons)
        s_new = np.concatenate(new_start)
        persons = np.concatenate([users, p_new])
        starts_all = np.concatenate([start, s_new])
        ends_all = np.concatenate([end, exponential_end(rng, s_new, stop_rate)])
        large = (rng.random(len(persons)) < 0.3) & (len(drug.large) > 0)
        events.episodes.add(
            person=persons,
            drug=drug.drug,
            start=starts_all,
            end=np.minimum(ends_all, NO_DATE),
            module=0,
            large=large,
            interval_factor=rng.uniform(0.97, 1.25, len(persons)),
        )


def _stays(ctx: GenerationContext, rng, pop: Population, events: ChunkEvents) -> None:
    care = ctx.care
    real = np.flatnonzero(~pop.fictitious).astype(np.int32)
    for year in ctx.years:
        s, e = _year_window(ctx, pop, year)
        band = band_of(care.bands, pop.age(year_start(year)))
        rate = rate_for(care.stay_rates, pop.sex, band) * np.sqrt(pop.frailty)
        who, days = dates_in_windows(rng, real, s[real], e[real], rate[real])
        add_stays(
            events,
            rng,
            pop,
            who,
            days,
            care.stay_variants,
            module=0,
            kind=STAY_BACKGROUND,
            emergency=0.4,
            death_cause=ctx.background_cause,
        )
        low, high = care.childbirth_ages
        age = pop.age(year_start(year))
        women = real[(pop.sex[real] == 2) & (age[real] >= low) & (age[real] <= high)]
        who, days = dates_in_windows(rng, women, s[women], e[women], care.childbirth_rate)
        single = Variants([care.childbirth], np.array([1.0]))
        add_stays(events, rng, pop, who, days, single, module=0, kind=STAY_BACKGROUND)
