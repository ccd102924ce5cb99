"""Persons of one chunk: age, sex, residence, scheme, death, and their SNDS identities.

A person (``BEN_IDT_ANO``) has one or more identities (``BEN_NIR_PSA`` + ``BEN_RNG_GEM``):
- same-sex twins share ``BEN_NIR_PSA`` and differ by ``BEN_RNG_GEM`` (1, 2);
- a child covered by both parents has two ``BEN_NIR_PSA``; a person first registered with
  a provisional NIR (``BEN_CDI_NIR`` 03/04) switches to a definitive one on a given day;
- fictitious identities (``BEN_CDI_NIR`` 01, 05, 06, 08, 11) are not real persons;
- ``BEN_IDT_ANO`` is ``BEN_NIR_ANO`` when known, else ``BEN_NIR_PSA || BEN_RNG_GEM``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sndskit.synthetic.arrays import NO_DATE, pseudonyms, year_start
from sndskit.synthetic.context import FICTITIOUS_CDI, PROVISIONAL_CDI, GenerationContext

CDI_CODES = ("00", *PROVISIONAL_CDI, *FICTITIOUS_CDI)
KIND_MAIN, KIND_SECOND_PARENT, KIND_PROVISIONAL, KIND_DEFINITIVE = 0, 1, 2, 3
MULTI_NONE, MULTI_PARENTS, MULTI_PROVISIONAL = 0, 1, 2


@dataclass
class Population:
    n: int
    first: int  # global index of the first person
    sex: np.ndarray  # 1 male, 2 female
    birth: np.ndarray  # day number
    death: np.ndarray  # day number, NO_DATE when alive at the end
    death_cause: np.ndarray  # ICD index, -1
    death_module: np.ndarray  # module index (0 background)
    died_in_hospital: np.ndarray
    department: np.ndarray
    scheme: np.ndarray
    emitter: np.ndarray  # FLX_EMT_NUM
    org: np.ndarray  # index in context org codes of the department
    frailty: np.ndarray
    fictitious: np.ndarray
    twin_of: np.ndarray  # local index of the twin, -1
    unknown_nir_ano: np.ndarray
    multi: np.ndarray  # MULTI_*
    switch_day: np.ndarray  # provisional → definitive identity
    # identities (one row per BEN_NIR_PSA, BEN_RNG_GEM)
    id_person: np.ndarray
    id_rng: np.ndarray
    id_cdi: np.ndarray  # index in CDI_CODES
    id_kind: np.ndarray
    id_key: np.ndarray  # pseudonym key of BEN_NIR_PSA
    main_identity: np.ndarray  # per person
    second_identity: np.ndarray  # per person, -1
    seed: int
    c2s: np.ndarray | None = None  # complémentaire santé solidaire over the period
    # BEN_DCD_DTE as IR_BEN_R and DCIR hold it (NO_DATE when not recorded): see deaths.py
    recorded_death: np.ndarray | None = None

    def age(self, days: np.ndarray | int, persons: np.ndarray | None = None) -> np.ndarray:
        birth = self.birth if persons is None else self.birth[persons]
        return (np.asarray(days) - birth) / 365.25

    # -- strings (built on demand) ----------------------------------------------------
    def nir_psa(self) -> pa.StringArray:
        """BEN_NIR_PSA of every identity (computed once)."""
        if "_psa" not in self.__dict__:
            self.__dict__["_psa"] = pseudonyms(self.seed, self.id_key)
        return self.__dict__["_psa"]

    def nir_ano(self) -> pa.StringArray:
        """BEN_NIR_ANO of every person (also for unknown ones: see ``nir_ano_known``)."""
        if "_nir_ano" not in self.__dict__:
            first = np.uint64(self.first)
            keys = (np.arange(self.n, dtype=np.uint64) + first) * np.uint64(4) + np.uint64(3)
            self.__dict__["_nir_ano"] = pseudonyms(self.seed, keys)
        return self.__dict__["_nir_ano"]

    def nir_ano_known(self) -> np.ndarray:
        return ~(self.unknown_nir_ano | self.fictitious)

    def idt_ano(self, psa: pa.StringArray | None = None) -> pa.Array:
        """BEN_IDT_ANO of every person."""
        psa = self.nir_psa() if psa is None else psa
        main = pa.array(self.main_identity.astype(np.int64))
        fallback = pc.binary_join_element_wise(
            psa.take(main), pa.array(self.id_rng[self.main_identity].astype(str)), ""
        )
        known = pa.array(self.nir_ano_known())
        return pc.if_else(known, self.nir_ano(), fallback)

    def identity_on(
        self, persons: np.ndarray, days: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """The identity each care event of ``persons`` on ``days`` is billed under."""
        identity = self.main_identity[persons].copy()
        second = self.second_identity[persons]
        multi = self.multi[persons]
        parents = multi == MULTI_PARENTS
        pick = parents & (rng.random(len(persons)) < 0.5)
        identity[pick] = second[pick]
        provisional = (multi == MULTI_PROVISIONAL) & (days >= self.switch_day[persons])
        identity[provisional] = second[provisional]
        return identity


def generate_population(
    ctx: GenerationContext, rng: np.random.Generator, first: int, n: int
) -> Population:
    plan = ctx.population
    traps = ctx.config.traps
    cell = np.minimum(
        np.searchsorted(plan.cell_cum, rng.random(n), side="right"), len(plan.cell_cum) - 1
    )
    sex = plan.cell_sex[cell].copy()
    age_days = (plan.cell_age[cell] * 365.25 + rng.random(n) * 5 * 365.25).astype(np.int32)
    birth = (ctx.start - 1 - age_days).astype(np.int32)
    department = np.minimum(
        np.searchsorted(plan.department_cum, rng.random(n), side="right"), len(plan.departments) - 1
    ).astype(np.int16)
    scheme = np.minimum(
        np.searchsorted(plan.schemes_cum, rng.random(n), side="right"), len(plan.schemes_cum) - 1
    ).astype(np.int8)
    emitter = np.zeros(n, dtype=np.int16)
    for s, emitters in enumerate(plan.emitters):
        sel = scheme == s
        emitter[sel] = emitters[rng.integers(0, len(emitters), int(sel.sum()))]
    org = np.zeros(n, dtype=np.int16)
    n_org = np.array([len(c) for c in plan.org_codes])[department]
    org = (rng.random(n) * n_org).astype(np.int16)
    shape = ctx.care.definition.frailty_shape
    frailty = rng.gamma(shape, 1 / shape, n).astype(np.float32)

    # twins: persons 2k and 2k+1, the first under 20, share birth, sex and residence
    age_start = age_days / 365.25
    twin_of = np.full(n, -1, dtype=np.int32)
    firsts = np.arange(0, n - 1, 2)
    pairs = firsts[(age_start[firsts] < 20) & (rng.random(len(firsts)) < traps.twins)]
    seconds = pairs + 1
    for arr in (sex, birth, department, scheme, emitter, org):
        arr[seconds] = arr[pairs]
    twin_of[pairs], twin_of[seconds] = seconds, pairs
    age_start = (ctx.start - 1 - birth) / 365.25

    fictitious = (rng.random(n) < traps.fictitious_nir) & (twin_of < 0)
    frailty[fictitious] *= 0.3
    eligible = (twin_of < 0) & ~fictitious
    multi = np.zeros(n, dtype=np.int8)
    has_multi = eligible & (rng.random(n) < traps.multiple_nir)
    child = age_start < 18
    multi[has_multi] = MULTI_PROVISIONAL
    multi[has_multi & child & (rng.random(n) < 0.5)] = MULTI_PARENTS
    switch_day = np.full(n, NO_DATE, dtype=np.int32)
    prov = multi == MULTI_PROVISIONAL
    switch_day[prov] = ctx.start + rng.integers(0, max(ctx.end - ctx.start, 1), int(prov.sum()))
    unknown = eligible & (multi == MULTI_NONE) & (rng.random(n) < traps.unknown_nir_ano)

    identities = _identities(first, n, twin_of, fictitious, multi, rng)
    death, cause = _background_deaths(ctx, rng, sex, birth)
    death[fictitious] = NO_DATE  # a fictitious identity is not a person: it does not die
    c2s = _c2s(plan, rng, age_start, (pairs, seconds))
    return Population(
        n=n,
        first=first,
        sex=sex,
        birth=birth,
        death=death,
        death_cause=cause,
        death_module=np.zeros(n, dtype=np.int8),
        died_in_hospital=np.zeros(n, dtype=bool),
        department=department,
        scheme=scheme,
        emitter=emitter,
        org=org,
        frailty=frailty,
        fictitious=fictitious,
        twin_of=twin_of,
        unknown_nir_ano=unknown,
        multi=multi,
        switch_day=switch_day,
        seed=ctx.config.seed,
        c2s=c2s,
        **identities,
    )


def _c2s(plan, rng, age_start: np.ndarray, twins: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """C2S beneficiaries by age band; twins share their parents' status."""
    band = np.clip(np.searchsorted(plan.c2s_bands, age_start, side="right") - 1, 0, None)
    c2s = rng.random(len(age_start)) < plan.c2s_share[band]
    c2s[twins[1]] = c2s[twins[0]]
    return c2s


def _identities(first, n, twin_of, fictitious, multi, rng) -> dict[str, np.ndarray]:
    persons = np.arange(n, dtype=np.int32)
    glob = persons.astype(np.uint64) + np.uint64(first)
    main_key = glob * np.uint64(4)
    is_second_twin = (twin_of >= 0) & (twin_of < persons)
    main_key[is_second_twin] = main_key[twin_of[is_second_twin]]
    main_rng = np.where(is_second_twin, 2, 1).astype(np.int8)
    main_cdi = np.zeros(n, dtype=np.int8)
    main_cdi[fictitious] = rng.integers(3, len(CDI_CODES), int(fictitious.sum()))
    main_kind = np.full(n, KIND_MAIN, dtype=np.int8)
    prov = multi == MULTI_PROVISIONAL
    main_cdi[prov] = rng.integers(1, 3, int(prov.sum()))  # 03 or 04 until the switch
    main_kind[prov] = KIND_PROVISIONAL
    extra = np.flatnonzero(multi != MULTI_NONE)
    extra_kind = np.where(multi[extra] == MULTI_PARENTS, KIND_SECOND_PARENT, KIND_DEFINITIVE)
    second_identity = np.full(n, -1, dtype=np.int32)
    second_identity[extra] = n + np.arange(len(extra), dtype=np.int32)
    return {
        "id_person": np.concatenate([persons, extra.astype(np.int32)]),
        "id_rng": np.concatenate([main_rng, np.ones(len(extra), dtype=np.int8)]),
        "id_cdi": np.concatenate([main_cdi, np.zeros(len(extra), dtype=np.int8)]),
        "id_kind": np.concatenate([main_kind, extra_kind.astype(np.int8)]),
        "id_key": np.concatenate([main_key, glob[extra] * np.uint64(4) + np.uint64(1)]),
        "main_identity": persons.copy(),
        "second_identity": second_identity,
    }


def _background_deaths(ctx: GenerationContext, rng, sex, birth) -> tuple[np.ndarray, np.ndarray]:
    plan = ctx.population
    n = len(sex)
    death = np.full(n, NO_DATE, dtype=np.int32)
    for year in ctx.years:
        first_day = year_start(year)
        days = year_start(year + 1) - first_day
        alive = death == NO_DATE
        age = (first_day - birth) / 365.25
        a = plan.mortality[sex - 1, 0]
        b = plan.mortality[sex - 1, 1]
        q = np.clip(np.exp(a + b * age), plan.q_min, plan.q_max) * plan.background_scale
        dies = alive & (rng.random(n) < q)
        death[dies] = first_day + rng.integers(0, days, int(dies.sum()))
    cause = np.full(n, -1, dtype=np.int32)
    return death, cause
