"""Hospital stays → PMSI MCO tables per discharge year (T_MCOaaB/C/D/A/UM), with traps.

Keys: ``ETA_NUM`` (FINESS, 9 characters) and ``RSA_NUM`` (10 digits, unique per chunk:
chunk number × 10⁶ + sequence). Traps planted here (truth in ``traps_pmsi``):
duplicate geographic FINESS of AP-HP/AP-HM/HCL, error GHMs (CMD 90), ``*_RET`` ≠ 0,
invalid ``NIR_ANO_17`` placeholders, inter-establishment copies (``SEJ_TYP = 'B'``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sndskit.errors import SndskitError
from sndskit.synthetic.arrays import (
    repeat_ranges,
    triangular_days,
    years_of,
)
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.definitions import finess_duplicate_list
from sndskit.synthetic.events import ChunkEvents
from sndskit.synthetic.modules.common import band_of
from sndskit.synthetic.pmsi_tables import (
    RET_BOOL_COLUMNS,
    RET_SINCE_2013,
    T_DUPLICATE,
    T_ERROR_GHM,
    T_INVALID_NIR,
    T_RET,
    T_RET_NULL,
    T_SEJ_TYP_B,
    build_pmsi_tables,
)
from sndskit.synthetic.population import Population

TRAP_NAMES = {
    T_DUPLICATE: "duplicate_geographic_finess",
    T_ERROR_GHM: "error_ghm",
    T_RET: "ret_code",
    T_INVALID_NIR: "invalid_nir_ano",
    T_SEJ_TYP_B: "sej_typ_b",
    T_RET_NULL: "ret_null",
}


@dataclass
class PmsiResult:
    tables: dict[str, pa.Table]  # physical name → table
    stays: dict[str, np.ndarray]  # final stays (with keys, traps), for truth and DCIR echoes
    acts: dict[str, np.ndarray]  # CCAM acts: stay (position in stays), code, offset (days)


def build_pmsi(
    ctx: GenerationContext,
    rng: np.random.Generator,
    pop: Population,
    events: ChunkEvents,
    conditions: dict[str, np.ndarray],
    chunk: int,
) -> PmsiResult:
    s = events.stays.build()
    acts = events.stay_acts.build()
    n0 = len(s["person"])
    s["id"] = np.arange(n0, dtype=np.int32)
    s["trap"] = np.zeros(n0, dtype=np.int8)
    s["of"] = np.full(n0, -1, dtype=np.int32)  # stay a trap copies
    s["ret"] = np.full(n0, -1, dtype=np.int8)
    s["sej_b"] = np.zeros(n0, dtype=bool)
    # death: no stay after it; a stay running over it ends with it (SOR_MOD 9)
    death = pop.death[s["person"]]
    keep = s["admission"] <= death
    s = {k: v[keep] for k, v in s.items()}
    death = death[keep]
    discharge = s["admission"] + s["los"]
    s["died"] = discharge >= death
    s["los"] = np.minimum(s["los"], death - s["admission"]).astype(np.int16)
    discharge = s["admission"] + s["los"]
    keep = (discharge >= ctx.start) & (discharge <= ctx.end)
    s = {k: v[keep] for k, v in s.items()}
    s["eta"] = _hospitals_for(ctx, rng, pop, s)
    s["site"] = _sites_for(ctx, rng, s)

    s = _plant_traps(ctx, rng, pop, s, conditions)
    n = len(s["person"])
    if n >= 1_000_000:
        raise SndskitError(
            f"{n} stays in one chunk overflow RSA_NUM (chunk × 10⁶ + sequence)",
            field="chunk_size",
            hint="lower chunk_size for long periods",
        )
    rsa_seq = np.arange(n, dtype=np.int64)
    rsa = chunk * 1_000_000 + rsa_seq + 1
    s["rsa"] = rsa
    das_stay, das_code = _associated_diagnoses(ctx, rng, pop, s, conditions)
    act_rows = _acts(s, acts)
    tables = build_pmsi_tables(ctx, rng, pop, s, (das_stay, das_code), act_rows)
    return PmsiResult(tables=tables, stays=s, acts=act_rows)


# -- hospitals ---------------------------------------------------------------------------
def _hospitals_for(ctx, rng, pop: Population, s) -> np.ndarray:
    h = ctx.hospitals
    n = len(s["person"])
    dept = pop.department[s["person"]]
    eta = np.empty(n, dtype=np.int32)
    pub_k = rng.integers(0, 3, n)
    priv_k = rng.integers(0, 2, n)
    pub = np.array([x for x in h.by_department_public])[
        dept, pub_k % h.by_department_public[0].size
    ]
    priv = np.array([x for x in h.by_department_private])[
        dept, priv_k % h.by_department_private[0].size
    ]
    eta[:] = np.where(s["private"], priv, pub)
    area = ctx.population.department_institution[dept]
    at_institution = (
        ~s["private"] & (area > 0) & (rng.random(n) < ctx.config.traps.duplicate_institution_share)
    )
    for inst, legal in h.legal.items():
        eta[at_institution & (area == inst)] = legal
    return eta


def _sites_for(ctx, rng, s) -> np.ndarray:
    """Geographic site (hospital index) of institution stays, -1 elsewhere.

    A site duplicated in the stay's year when there is one (source table of
    ``finess_duplicates.csv``), else one of the sites of the 46-code list.
    """
    h = ctx.hospitals
    site = np.full(len(s["eta"]), -1, dtype=np.int32)
    inst = h.institution[s["eta"]]
    year = years_of(s["admission"] + s["los"])
    list46 = set(finess_duplicate_list(46))
    for i, sites in h.sites.items():
        sel = np.flatnonzero(inst == i)
        fallback = np.array([x[0] for x in sites if h.finess[x[0]] in list46], dtype=np.int32)
        for y in np.unique(year[sel]):
            sub = sel[year[sel] == y]
            valid = np.array([x[0] for x in sites if x[1] <= y <= x[2]], dtype=np.int32)
            pool = valid if len(valid) else fallback
            site[sub] = pool[rng.integers(0, len(pool), len(sub))]
    return site


# -- traps -------------------------------------------------------------------------------
def _plant_traps(ctx, rng, pop: Population, s, conditions) -> dict[str, np.ndarray]:
    traps = ctx.config.traps
    h = ctx.hospitals
    n_true = len(s["person"])
    parts = [s]
    # 1. double transmission under the geographic FINESS (years of the source list)
    year = years_of(s["admission"] + s["los"])
    dup = np.zeros(n_true, dtype=bool)
    for inst, sites in h.sites.items():
        for hospital, first, last in sites:
            valid = ctx.config.finess_duplicates_all_years | ((year >= first) & (year <= last))
            dup |= (s["site"] == hospital) & valid & (h.institution[s["eta"]] == inst)
    copy = _take(s, np.flatnonzero(dup))
    copy["eta"] = copy["site"].copy()
    copy["trap"][:] = T_DUPLICATE
    copy["of"] = np.flatnonzero(dup).astype(np.int32)
    parts.append(copy)
    # 2-4. spurious stays with disease-module codes for persons without the condition
    for trap, rate in (
        (T_ERROR_GHM, traps.error_ghm),
        (T_RET, traps.ret_code),
        (T_INVALID_NIR, traps.invalid_nir_ano),
        (T_RET_NULL, traps.ret_null),
    ):
        k = int(rng.binomial(n_true, rate)) if n_true else 0
        if k:
            parts.append(_spurious(ctx, rng, pop, conditions, k, trap))
    # 5. inter-establishment service copy (SEJ_TYP = 'B') in another public hospital
    k = int(rng.binomial(n_true, traps.sej_typ_b)) if n_true else 0
    if k:
        idx = rng.choice(n_true, k, replace=False)
        c = _take(s, idx)
        dept = pop.department[c["person"]]
        c["eta"] = np.array(h.by_department_public)[dept, rng.integers(0, 3, k)]
        c["site"][:] = -1
        c["los"][:] = 0
        c["trap"][:] = T_SEJ_TYP_B
        c["of"] = idx.astype(np.int32)
        c["sej_b"][:] = True
        c["died"][:] = False
        parts.append(c)
    return {k: np.concatenate([p[k] for p in parts]) for k in s}


def _take(s, idx) -> dict[str, np.ndarray]:
    return {k: v[idx].copy() for k, v in s.items()}


def _spurious(ctx, rng, pop: Population, conditions, k: int, trap: int) -> dict[str, np.ndarray]:
    modules = [m for m in ctx.modules if m.index_variants or m.follow_up_variants]
    which = rng.integers(0, len(modules), k) if modules else np.zeros(k, dtype=np.int64)
    candidates = np.flatnonzero(~pop.fictitious & (pop.death > ctx.start + 30))
    person = candidates[rng.integers(0, len(candidates), k)].astype(np.int32)
    dp = np.empty(k, dtype=np.int32)
    ghm = np.empty(k, dtype=np.int32)
    module = np.zeros(k, dtype=np.int8)
    for j, m in enumerate(modules):
        sel = np.flatnonzero(which == j)
        variants = m.index_variants or m.follow_up_variants
        v = variants.sample(rng, len(sel))
        for vi, plan in enumerate(variants.plans):
            sub = sel[v == vi]
            dp[sub] = (
                plan.dp.sample(rng, len(sub)) if plan.dp else m.diagnosis.sample(rng, len(sub))
            )
            ghm[sub] = plan.ghm.sample(rng, len(sub))
        module[sel] = m.index
        # a person with the module's condition is not a false positive: move the stay
        has = conditions["has"][m.index][person[sel]]
        others = candidates[rng.integers(0, len(candidates), int(has.sum()))]
        person[sel[has]] = others
    if trap == T_ERROR_GHM:
        ghm = np.array(ctx.error_ghm, dtype=np.int32)[rng.integers(0, len(ctx.error_ghm), k)]
    last = np.minimum(pop.death[person] - 1, ctx.end - 10)
    admission = ctx.start + (rng.random(k) * np.maximum(last - ctx.start, 1)).astype(np.int32)
    los = triangular_days(rng, (0, 2, 10), k).astype(np.int16)
    dept = pop.department[person]
    eta = np.array(ctx.hospitals.by_department_public)[dept, rng.integers(0, 3, k)]
    ret = np.full(k, -1, dtype=np.int8)
    if trap in (T_RET, T_RET_NULL):
        since_2013 = years_of(admission + los) >= 2013
        n_cols = np.where(
            since_2013, len(RET_BOOL_COLUMNS) + 1 + len(RET_SINCE_2013), len(RET_BOOL_COLUMNS) + 1
        )
        ret = (rng.random(k) * n_cols).astype(np.int8)
    return {
        "person": person,
        "admission": admission.astype(np.int32),
        "los": los,
        "dp": dp,
        "dr": np.full(k, -1, dtype=np.int32),
        "ghm": ghm,
        "module": module,
        "kind": np.zeros(k, dtype=np.int8),
        "death": np.zeros(k, dtype=bool),
        "emergency": rng.random(k) < 0.5,
        "private": np.zeros(k, dtype=bool),
        "ucd": np.full(k, -1, dtype=np.int32),
        "ucd_qty": np.zeros(k, dtype=np.int16),
        "id": np.full(k, -1, dtype=np.int32),
        "trap": np.full(k, trap, dtype=np.int8),
        "of": np.full(k, -1, dtype=np.int32),
        "ret": ret,
        "sej_b": np.zeros(k, dtype=bool),
        "died": np.zeros(k, dtype=bool),
        "eta": eta.astype(np.int32),
        "site": np.full(k, -1, dtype=np.int32),
    }


# -- diagnoses and acts ------------------------------------------------------------------
def _associated_diagnoses(
    ctx, rng, pop: Population, s, conditions
) -> tuple[np.ndarray, np.ndarray]:
    """DAS: active conditions of the person (module ``das_probability``) and comorbidities."""
    stay_parts, code_parts = [], []
    person, admission = s["person"], s["admission"]
    for m in ctx.modules:
        idx = conditions["index"][m.index][person]
        has = idx >= 0
        active = has.copy()
        active[has] = (conditions["onset"][idx[has]] <= admission[has]) & (
            conditions["end"][idx[has]] >= admission[has]
        )
        pick = active & (rng.random(len(person)) < m.definition.das_probability)
        pick &= s["module"] != m.index  # the stay's own condition is its DP/DR
        sel = np.flatnonzero(pick)
        stay_parts.append(sel)
        code_parts.append(conditions["code"][idx[sel]])
    band = band_of(ctx.care.bands, pop.age(admission, person))
    for code, probs in ctx.care.comorbidities:
        sel = np.flatnonzero(rng.random(len(person)) < probs[band])
        stay_parts.append(sel)
        code_parts.append(np.full(len(sel), code, dtype=np.int32))
    stay = np.concatenate(stay_parts).astype(np.int64)
    code = np.concatenate(code_parts).astype(np.int32)
    not_dp = code != s["dp"][stay]
    stay, code = stay[not_dp], code[not_dp]
    order = np.lexsort((code, stay))
    stay, code = stay[order], code[order]
    dup = np.zeros(len(stay), dtype=bool)
    dup[1:] = (stay[1:] == stay[:-1]) & (code[1:] == code[:-1])
    return stay[~dup], code[~dup]


def _acts(s, acts) -> dict[str, np.ndarray]:
    """Acts of the true stays, repeated for the trap copies of those stays."""
    src = np.where(s["of"] >= 0, s["id"][np.maximum(s["of"], 0)], s["id"])
    src = np.where(s["trap"] == T_SEJ_TYP_B, -1, src)  # the copy carries no act
    order = np.argsort(acts["stay"], kind="stable")
    a_stay = acts["stay"][order]
    valid = np.flatnonzero(src >= 0)
    lo = np.searchsorted(a_stay, src[valid], side="left")
    hi = np.searchsorted(a_stay, src[valid], side="right")
    owner, rank = repeat_ranges(hi - lo)
    base = order[lo[owner] + rank]
    stay = valid[owner]
    offset = np.minimum(acts["offset"][base], s["los"][stay])
    return {"stay": stay, "code": acts["code"][base], "offset": offset}
