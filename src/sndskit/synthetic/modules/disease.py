"""One generic engine runs every disease module from its YAML definition.

For a module: who has the condition at the start of the period (prevalence) and who
gets it during the period (incidence), then for each case the trajectory the definition
describes: index hospital stay at onset, follow-up stays, chemotherapy sessions and
hospital drugs, long-term condition (ALD) registration, drug treatment episodes, town
follow-up (specialists, biology, acts) and excess mortality.
"""

from __future__ import annotations

import numpy as np

from sndskit.synthetic.arrays import MISSING_DATE, NO_DATE, uniform_int, year_start
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.definitions import MODULE_AGE_BANDS
from sndskit.synthetic.events import (
    BIOLOGY,
    GP,
    SPECIALIST,
    STAY_EVENT,
    STAY_FOLLOW_UP,
    STAY_INDEX,
    STAY_SESSION,
    TECH_ACT,
    UCD,
    ChunkEvents,
)
from sndskit.synthetic.modules.common import (
    add_stays,
    alive_window,
    apply_deaths,
    band_of,
    dates_in_windows,
    exponential_end,
    rate_for,
)
from sndskit.synthetic.plans import ModulePlan
from sndskit.synthetic.population import Population

ALD_ETM_LIST = 41  # IMB_ETM_NAT: "bénéficiaire atteint d'une maladie liste"


def run_module(
    ctx: GenerationContext,
    rng: np.random.Generator,
    pop: Population,
    events: ChunkEvents,
    plan: ModulePlan,
) -> None:
    d = plan.definition
    persons, onset, prevalent = _cases(ctx, rng, pop, plan)
    if len(persons) == 0:
        return
    n = len(persons)
    end = np.full(n, NO_DATE, dtype=np.int32)
    if d.epidemiology.episode_days is not None:
        end = onset + uniform_int(rng, d.epidemiology.episode_days, n)
        end[prevalent] = np.maximum(end[prevalent], ctx.start + 30)
    diagnosis = plan.diagnosis.sample(rng, n)
    events.conditions.add(
        person=persons, module=plan.index, onset=onset, end=end, code=diagnosis, prevalent=prevalent
    )
    period = (ctx.start, ctx.end)

    if plan.index_variants is not None and d.index_stay is not None:
        has = ~prevalent & (rng.random(n) < d.index_stay.probability)
        add_stays(
            events,
            rng,
            pop,
            persons[has],
            onset[has],
            plan.index_variants,
            module=plan.index,
            kind=STAY_INDEX,
            diagnosis=diagnosis[has],
            emergency=d.index_stay.entry_emergency,
            death_cause=plan.cause,
        )

    if plan.follow_up_variants is not None and d.follow_up_stays is not None:
        # follow-up stays start 30 days after onset, while the condition lasts
        s, e = alive_window(pop, persons, onset + 30, end, period)
        idx, days = dates_in_windows(rng, np.arange(n), s, e, d.follow_up_stays.rate)
        add_stays(
            events,
            rng,
            pop,
            persons[idx],
            days,
            plan.follow_up_variants,
            module=plan.index,
            kind=STAY_EVENT if d.follow_up_stays.event else STAY_FOLLOW_UP,
            diagnosis=diagnosis[idx],
            emergency=0.6,
            death_cause=plan.cause,
        )

    if d.sessions is not None and plan.session_dp is not None:
        _sessions(ctx, rng, pop, events, plan, persons, onset, diagnosis)
    if d.hospital_drug is not None and plan.hospital_drug_ucd:
        _hospital_drug(ctx, rng, pop, events, plan, persons, onset, diagnosis)
    if d.ald is not None:
        _ald(rng, pop, events, plan, persons, onset)
    _drugs(rng, events, plan, persons, onset, end)
    _town_follow_up(ctx, rng, pop, events, plan, persons, onset, end)
    _excess_mortality(ctx, rng, pop, plan, persons, onset, end)


def _cases(ctx: GenerationContext, rng, pop: Population, plan: ModulePlan):
    """Prevalent cases at the start, then incident cases year by year."""
    epi = plan.definition.epidemiology
    age0 = pop.age(ctx.start)
    eligible = ~pop.fictitious & (age0 >= epi.min_age)
    band0 = band_of(MODULE_AGE_BANDS, age0)
    prevalent = eligible & (rng.random(pop.n) < rate_for(plan.prevalence, pop.sex, band0))
    low, high = epi.prevalent_onset_years
    onset = np.full(pop.n, NO_DATE, dtype=np.int32)
    back = (low + rng.random(pop.n) * (high - low)) * 365.25
    onset_prev = (ctx.start - back).astype(np.int32)
    # no onset before the minimum age (nor before the first birthday)
    earliest = pop.birth + int(max(epi.min_age, 1) * 365.25)
    onset[prevalent] = np.maximum(onset_prev, earliest)[prevalent]
    onset[prevalent] = np.minimum(onset[prevalent], ctx.start - 1)
    has = prevalent.copy()
    for year in ctx.years:
        first_day = year_start(year)
        days = year_start(year + 1) - first_day
        age = pop.age(first_day)
        at_risk = eligible & ~has & (pop.death > first_day) & (age >= epi.min_age)
        hazard = rate_for(plan.incidence, pop.sex, band_of(MODULE_AGE_BANDS, age))
        new = at_risk & (rng.random(pop.n) < hazard)
        day = first_day + rng.integers(0, days, pop.n).astype(np.int32)
        new &= day < pop.death
        onset[new] = day[new]
        has |= new
    persons = np.flatnonzero(has).astype(np.int32)
    return persons, onset[persons], prevalent[persons]


def _sessions(ctx, rng, pop, events: ChunkEvents, plan: ModulePlan, persons, onset, diagnosis):
    s = plan.definition.sessions
    has = rng.random(len(persons)) < s.probability
    p, o, dx = persons[has], onset[has], diagnosis[has]
    counts = uniform_int(rng, s.count, len(p))
    first = o + uniform_int(rng, s.start_delay_days, len(p))
    owner = np.repeat(np.arange(len(p)), counts)
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    days = first[owner] + rank * s.interval_days
    ok = (days >= ctx.start) & (days <= ctx.end)
    owner, days = owner[ok], days[ok]
    k = len(owner)
    events.add_stays(
        person=p[owner],
        admission=days,
        los=np.zeros(k, dtype=np.int16),
        dp=plan.session_dp.sample(rng, k),
        dr=dx[owner] if s.dr_from_diagnosis else -1,
        ghm=plan.session_ghm.sample(rng, k),
        module=plan.index,
        kind=STAY_SESSION,
        private=(rng.random(len(p)) < 0.4)[owner],
    )


def _hospital_drug(ctx, rng, pop, events: ChunkEvents, plan: ModulePlan, persons, onset, diagnosis):
    """Hospital-only drug given in sessions: PMSI session + DCIR UCD line in private clinics."""
    h = plan.definition.hospital_drug
    has = rng.random(len(persons)) < h.probability
    p, o, dx = persons[has], onset[has], diagnosis[has]
    private = rng.random(len(p)) < h.private_share
    counts = uniform_int(rng, h.count, len(p))
    first = o + uniform_int(rng, h.start_delay_days, len(p))
    owner = np.repeat(np.arange(len(p)), counts)
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    days = first[owner] + rank * h.interval_days
    ucd = np.array(plan.hospital_drug_ucd, dtype=np.int32)[
        rng.integers(0, len(plan.hospital_drug_ucd), len(p))
    ]
    # the exposure episode (truth), whether or not its sessions fall in the period
    events.episodes.add(
        person=p,
        drug=-1 - plan.index,
        start=first,
        end=first + (counts - 1) * h.interval_days,
        module=plan.index,
        large=False,
        interval_factor=1.0,
    )
    ok = (days >= ctx.start) & (days <= ctx.end)
    owner, days = owner[ok], days[ok]
    k = len(owner)
    qty = uniform_int(rng, h.units, k)
    dp = plan.session_dp.sample(rng, k) if plan.session_dp is not None else dx[owner]
    stay_ids = events.add_stays(
        person=p[owner],
        admission=days,
        los=np.zeros(k, dtype=np.int16),
        dp=dp,
        dr=dx[owner],
        ghm=plan.session_ghm.sample(rng, k) if plan.session_ghm is not None else -1,
        module=plan.index,
        kind=STAY_SESSION,
        private=private[owner],
        ucd=ucd[owner],
        ucd_qty=qty,
    )
    priv = private[owner]
    events.lines.add(
        person=p[owner][priv],
        date=days[priv],
        kind=UCD,
        code=ucd[owner][priv],
        qty=qty[priv],
        module=plan.index,
        stay=stay_ids[priv],
        episode=-2,
    )


def _ald(rng, pop, events: ChunkEvents, plan: ModulePlan, persons, onset):
    a = plan.definition.ald
    has = rng.random(len(persons)) < a.probability
    p, o = persons[has], onset[has]
    start = o + uniform_int(rng, a.delay_days, len(p))
    alive = start < pop.death[p]
    p, start = p[alive], start[alive]
    n = len(p)
    years = uniform_int(rng, a.duration_years, n)
    end = np.where(
        rng.random(n) < a.open_ended, MISSING_DATE, start + (years * 365.25).astype(np.int32)
    )
    events.ald.add(
        person=p,
        number=a.number,
        start=start,
        end=end.astype(np.int32),
        code=plan.ald_codes.sample(rng, n),
        etm=ALD_ETM_LIST,
        module=plan.index,
    )


def _drugs(rng, events: ChunkEvents, plan: ModulePlan, persons, onset, end):
    n = len(persons)
    chosen = np.zeros((n, len(plan.drugs)), dtype=bool)
    groups: dict[str, list[int]] = {}
    for k, drug in enumerate(plan.drugs):
        if drug.group is None:
            chosen[:, k] = rng.random(n) < drug.definition.probability
        else:
            groups.setdefault(drug.group, []).append(k)
    for members in groups.values():
        probs = np.array([plan.drugs[k].definition.probability for k in members])
        u = rng.random(n)
        pos = np.searchsorted(np.cumsum(probs), u, side="right")
        for j, k in enumerate(members):
            chosen[:, k] = pos == j
    for k, drug in enumerate(plan.drugs):
        sel = np.flatnonzero(chosen[:, k])
        if len(sel) == 0:
            continue
        d = drug.definition
        start = onset[sel] + uniform_int(rng, d.start_delay_days, len(sel))
        if d.duration_days is not None:
            stop = start + uniform_int(rng, d.duration_days, len(sel))
        else:
            stop = exponential_end(rng, start, d.stop_per_year)
        stop = np.minimum(stop, end[sel])
        large = (rng.random(len(sel)) < d.large_pack_share) & (len(drug.large) > 0)
        events.episodes.add(
            person=persons[sel],
            drug=drug.drug,
            start=start,
            end=stop,
            module=plan.index,
            large=large,
            interval_factor=rng.uniform(0.97, 1.2, len(sel)),
        )


def _town_follow_up(ctx, rng, pop, events: ChunkEvents, plan: ModulePlan, persons, onset, end):
    s, e = alive_window(pop, persons, onset + 14, end, (ctx.start, ctx.end))
    idx = np.arange(len(persons))
    for code, per_year in plan.biology:
        who, days = dates_in_windows(rng, idx, s, e, per_year)
        events.lines.add(
            person=persons[who],
            date=days,
            kind=BIOLOGY,
            code=code,
            qty=1,
            module=plan.index,
            spe=38,
        )
    for code, per_year in plan.acts:
        who, days = dates_in_windows(rng, idx, s, e, per_year)
        events.lines.add(
            person=persons[who],
            date=days,
            kind=TECH_ACT,
            code=code,
            qty=1,
            module=plan.index,
            spe=_act_specialty(plan),
        )
    for spe, per_year in plan.specialists:
        who, days = dates_in_windows(rng, idx, s, e, per_year)
        events.lines.add(
            person=persons[who], date=days, kind=SPECIALIST, qty=1, spe=spe, module=plan.index
        )
    extra = plan.definition.extra_gp_visits
    if extra > 0:
        who, days = dates_in_windows(rng, idx, s, e, extra)
        events.lines.add(person=persons[who], date=days, kind=GP, qty=1, spe=1, module=plan.index)


def _act_specialty(plan: ModulePlan) -> int:
    first = plan.specialists[0][0] if plan.specialists else 6
    return first


def _excess_mortality(ctx, rng, pop: Population, plan: ModulePlan, persons, onset, end):
    rate = plan.definition.mortality.excess_annual
    if rate <= 0:
        return
    s, e = alive_window(pop, persons, onset + 1, end, (ctx.start, ctx.end))
    idx, days = dates_in_windows(rng, np.arange(len(persons)), s, e, -np.log1p(-rate))
    apply_deaths(pop, persons[idx], days, plan.cause.sample(rng, len(idx)), plan.index, False)
