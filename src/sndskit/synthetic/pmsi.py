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
    digits,
    month_index,
    month_start,
    repeat_ranges,
    take_strings,
    triangular_days,
    yearmonth,
    years_of,
)
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.definitions import finess_duplicate_list
from sndskit.synthetic.events import STAY_SESSION, ChunkEvents
from sndskit.synthetic.modules.common import band_of
from sndskit.synthetic.population import Population
from sndskit.synthetic.schema import build_table

RET_BOOL_COLUMNS = ("NIR_RET", "SEX_RET", "SEJ_RET", "FHO_RET", "PMS_RET")
RET_SINCE_2013 = ("COH_NAI_RET", "COH_SEX_RET")
INVALID_NIR = ("xxxxxxxxxxxxxxxxx", "XXXXXXXXXXXXXXXXD", "XXXXXXXXXXXXXXXXS")
# trap codes in the stays table (0: a true stay)
T_DUPLICATE, T_ERROR_GHM, T_RET, T_INVALID_NIR, T_SEJ_TYP_B, T_RET_NULL = range(1, 7)
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
    tables = _tables(ctx, rng, pop, s, das_stay, das_code, act_rows)
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


def ret_column_names(since_2013: bool) -> tuple[str, ...]:
    """The *_RET columns a RET trap may set, in the order of the ``ret`` codes."""
    names = (*RET_BOOL_COLUMNS, "NAI_RET")
    return names + RET_SINCE_2013 if since_2013 else names


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


# -- tables ------------------------------------------------------------------------------
def _tables(ctx, rng, pop: Population, s, das_stay, das_code, acts) -> dict[str, pa.Table]:
    h = ctx.hospitals
    n = len(s["person"])
    discharge = s["admission"] + s["los"]
    year = years_of(discharge)
    eta_str = take_strings(h.finess, s["eta"])
    rsa_str = digits(s["rsa"], 10)
    icd = ctx.icd
    person = s["person"]
    age = pop.age(s["admission"], person)
    dept = np.array(ctx.population.departments, dtype=object)[pop.department[person]]
    bdi_dep = np.array([d[1:] if d[0] == "0" else d[:2] for d in dept], dtype=object)
    session = s["kind"] == STAY_SESSION
    sor_mod = np.where(s["died"], "9", np.where(rng.random(n) < 0.05, "7", "8"))
    identity = pop.identity_on(person, s["admission"], rng)
    psa = pop.nir_psa()
    nir = psa.take(pa.array(identity.astype(np.int64)))
    invalid = s["trap"] == T_INVALID_NIR
    if invalid.any():
        placeholder = np.array(INVALID_NIR, dtype=object)[rng.integers(0, 3, int(invalid.sum()))]
        nir_np = np.array(nir.to_pylist(), dtype=object)
        nir_np[invalid] = placeholder
        nir = pa.array(nir_np, type=pa.string())
    since_2013 = year >= 2013
    n_das = np.bincount(das_stay, minlength=n)
    n_act = np.bincount(acts["stay"], minlength=n)
    two_um = (s["los"] >= 2) & (rng.random(n) < 0.15) & ~session
    geo = np.where(s["site"] >= 0, s["site"], s["eta"])

    b = {
        "ETA_NUM": eta_str,
        "RSA_NUM": rsa_str,
        "DGN_PAL": take_strings(icd, s["dp"]),
        "DGN_REL": take_strings(icd, s["dr"]),
        "GRG_GHM": take_strings(ctx.ghm, s["ghm"]),
        "SEJ_TYP": (np.full(n, "B", dtype=object), ~s["sej_b"]),
        "ENT_MOD": np.full(n, "8", dtype=object),
        "ENT_PRV": (np.full(n, "5", dtype=object), ~s["emergency"]),
        "SOR_MOD": sor_mod.astype(object),
        "SOR_DES": (np.full(n, "1", dtype=object), sor_mod != "7"),
        "SEJ_NBJ": (s["los"].astype(np.int64), session),
        "NBR_SEA": session.astype(np.int64),
        "AGE_ANN": np.floor(age).astype(np.int64),
        "AGE_JOU": (np.floor(age * 365.25).astype(np.int64), age >= 1),
        "COD_SEX": pop.sex[person].astype(str).astype(object),
        "BDI_DEP": bdi_dep,
        "BDI_COD": np.array([d + "000" for d in bdi_dep], dtype=object),
        "NBR_DGN": n_das.astype(np.int64),
        "NBR_RUM": np.where(two_um, 2, 1).astype(np.int64),
        "NBR_ACT": n_act.astype(np.int64),
        "SOR_ANN": year.astype(np.int32),
        "SOR_MOI": month_start(month_index(discharge)),
        "TYP_GEN_RSA": np.zeros(n, dtype=np.int64),
        "SEQ_RUM": np.ones(n, dtype=np.int64),
    }
    ret_true = {c: np.zeros(n, dtype=bool) for c in RET_BOOL_COLUMNS + RET_SINCE_2013}
    ret_null = {c: ~since_2013 if c in RET_SINCE_2013 else np.zeros(n, bool) for c in ret_true}
    ret_null["NAI_RET"] = np.zeros(n, dtype=bool)
    nai_ret = np.full(n, "0", dtype=object)
    null_trap = s["trap"] == T_RET_NULL
    for code, name in enumerate((*RET_BOOL_COLUMNS, "NAI_RET", *RET_SINCE_2013)):
        sel = s["ret"] == code
        ret_null[name] |= sel & null_trap
        if name == "NAI_RET":
            nai_ret[sel & ~null_trap] = "1"
        else:
            ret_true[name][sel & ~null_trap] = True
    c = {
        "ETA_NUM": eta_str,
        "RSA_NUM": rsa_str,
        "NIR_ANO_17": nir,
        "EXE_SOI_DTD": s["admission"],
        "EXE_SOI_DTF": discharge,
        "ENT_DAT": s["admission"],
        "SOR_DAT": discharge,
        "SOR_ANN": year.astype(np.int32),
        "SOR_MOI": month_start(month_index(discharge)),
        "EXE_SOI_AMD": yearmonth(s["admission"]),
        "EXE_SOI_AMF": yearmonth(discharge),
        "ENT_AM": yearmonth(s["admission"]),
        "SOR_AM": yearmonth(discharge),
        "NAI_RET": (nai_ret, ret_null["NAI_RET"]),
        "DAT_RET": np.full(n, "0", dtype=object),
        # birth rank not transmitted reliably: twins cannot be told apart in PMSI
        "RNG_NAI": np.ones(n, dtype=np.int64),
        "RNG_BEN": np.full(n, "001", dtype=object),
        "SEJ_NUM": (s["rsa"] % 100_000).astype(np.int64),
        "ETA_NUM_RET": np.zeros(n, dtype=bool),
    }
    for name in RET_BOOL_COLUMNS + RET_SINCE_2013:
        c[name] = (ret_true[name], ret_null[name])
    d = {
        "ETA_NUM": eta_str.take(pa.array(das_stay)),
        "RSA_NUM": rsa_str.take(pa.array(das_stay)),
        "ASS_DGN": take_strings(icd, das_code),
        "DGN_ASS_NUM": _rank_plus_one(das_stay),
    }
    a = {
        "ETA_NUM": eta_str.take(pa.array(acts["stay"])),
        "RSA_NUM": rsa_str.take(pa.array(acts["stay"])),
        "CDC_ACT": take_strings(ctx.ccam, acts["code"]),
        "ACV_ACT": np.full(len(acts["stay"]), "1", dtype=object),
        "PHA_ACT": np.full(len(acts["stay"]), "0", dtype=object),
        "NBR_EXE_ACT": np.ones(len(acts["stay"]), dtype=np.int64),
        "ENT_DAT_DEL": acts["offset"].astype(np.int64),
    }
    um = _um_rows(s, two_um, das_stay, das_code, geo)
    um_cols = {
        "ETA_NUM": eta_str.take(pa.array(um["stay"])),
        "RSA_NUM": rsa_str.take(pa.array(um["stay"])),
        "UM_ORD_NUM": um["order"],
        "DGN_PAL": take_strings(icd, um["dp"]),
        "DGN_REL": take_strings(icd, um["dr"]),
        "PAR_DUR_SEJ": um["los"],
        "ETA_NUM_GEO": take_strings(h.finess, um["geo"]),
        "DGN_ASS_NBR": np.zeros(len(um["stay"]), dtype=np.int64),
    }
    out: dict[str, pa.Table] = {}
    for template, cols, owner in (
        ("T_MCOaaB", b, None),
        ("T_MCOaaC", c, None),
        ("T_MCOaaD", d, das_stay),
        ("T_MCOaaA", a, acts["stay"]),
        ("T_MCOaaUM", um_cols, um["stay"]),
    ):
        rows_year = year if owner is None else year[owner]
        table = build_table(ctx.schemas[template], cols, len(rows_year))
        for y in ctx.years:
            name = template.replace("aa", f"{y % 100:02d}")
            out[name] = table.filter(pa.array(rows_year == y))
    return out


def _rank_plus_one(stay: np.ndarray) -> np.ndarray:
    starts = np.ones(len(stay), dtype=bool)
    starts[1:] = stay[1:] != stay[:-1]
    idx = np.arange(len(stay))
    return (idx - np.maximum.accumulate(np.where(starts, idx, 0)) + 1).astype(np.int64)


def _um_rows(s, two_um, das_stay, das_code, geo) -> dict[str, np.ndarray]:
    n = len(s["person"])
    first_das = np.full(n, -1, dtype=np.int32)
    if len(das_stay):
        starts = np.ones(len(das_stay), dtype=bool)
        starts[1:] = das_stay[1:] != das_stay[:-1]
        first_das[das_stay[starts]] = das_code[starts]
    idx = np.arange(n)
    second = idx[two_um]
    part1 = np.where(two_um, s["los"] // 2, s["los"]).astype(np.int64)
    stay = np.concatenate([idx, second])
    order = np.concatenate([np.ones(n, dtype=np.int64), np.full(len(second), 2, dtype=np.int64)])
    dp2 = np.where(first_das[second] >= 0, first_das[second], s["dp"][second])
    rows = {
        "stay": stay,
        "order": order,
        "dp": np.concatenate([s["dp"], dp2]),
        "dr": np.concatenate([s["dr"], np.full(len(second), -1, dtype=np.int32)]),
        "los": np.concatenate([part1, (s["los"][second] - part1[second]).astype(np.int64)]),
        "geo": np.concatenate([geo, geo[second]]),
    }
    sort = np.lexsort((rows["order"], rows["stay"]))
    return {k: v[sort] for k, v in rows.items()}
