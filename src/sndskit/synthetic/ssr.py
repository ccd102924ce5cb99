"""SSR stays (soins de suite et de réadaptation) after an index MCO stay → T_SSRaaB/C/D.

A module with ``rehabilitation`` sends a share of its index stays (the person discharged
alive) to an SSR stay starting on the day of discharge or up to two days later, in a
hospital of the person's department. One RHA per stay, with one weekly summary (RHS) that
carries the morbidité principale (``MOR_PRP``), the aetiology (``ETL_AFF`` = the person's
diagnosis) and the comorbidities as associated diagnoses (``T_SSRaaD.DGN_COD``). Written
when the store's catalogue describes the SSR tables (not the built-in sample); truth in
``truth/rehabilitation_stays``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sndskit.errors import SndskitError
from sndskit.synthetic import truth
from sndskit.synthetic.arrays import (
    digits,
    month_index,
    month_start,
    take_strings,
    triangular_days,
    yearmonth,
    years_of,
)
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.events import STAY_INDEX
from sndskit.synthetic.modules.common import band_of
from sndskit.synthetic.population import Population
from sndskit.synthetic.schema import SSR_TABLES, build_table

RET_COLUMNS = ("NIR_RET", "NAI_RET", "SEX_RET", "SEJ_RET", "FHO_RET", "PMS_RET", "DAT_RET")


@dataclass
class SsrResult:
    tables: dict[str, pa.Table]
    stays: dict[str, np.ndarray]  # person, module, admission, los, eta, rha, mmp, ae, of


def build_ssr(
    ctx: GenerationContext,
    rng: np.random.Generator,
    pop: Population,
    mco: dict[str, np.ndarray],
    conditions: dict,
    chunk: int,
) -> SsrResult:
    s = _stays(ctx, rng, pop, mco, conditions)
    n = len(s["person"])
    if n >= 1000:  # RHA_NUM has 7 digits: chunk (4) and sequence (3)
        raise SndskitError(
            f"{n} SSR stays in one chunk overflow RHA_NUM (chunk × 1000 + sequence)",
            field="chunk_size",
            hint="lower chunk_size for long periods",
        )
    s["rha"] = chunk * 1000 + np.arange(n, dtype=np.int64) + 1
    if not all(t in ctx.schemas for t in SSR_TABLES):
        return SsrResult(tables={}, stays=s)
    return SsrResult(tables=_tables(ctx, rng, pop, s), stays=s)


def _stays(ctx: GenerationContext, rng, pop: Population, mco, conditions) -> dict:
    parts = []
    index = (mco["trap"] == 0) & (mco["kind"] == STAY_INDEX) & ~mco["died"]
    for m in ctx.modules:
        r = m.definition.rehabilitation
        if r is None or m.rehabilitation_mmp is None:
            continue
        sel = np.flatnonzero(index & (mco["module"] == m.index))
        sel = sel[rng.random(len(sel)) < r.probability]
        person = mco["person"][sel]
        admission = (mco["admission"][sel] + mco["los"][sel] + rng.integers(0, 3, len(sel))).astype(
            np.int32
        )
        los = triangular_days(rng, r.los, len(sel))
        ok = (admission + los < pop.death[person]) & (admission + los <= ctx.end)
        private = rng.random(len(sel)) < r.private_share
        case = conditions["index"][m.index][person]
        parts.append(
            {
                "person": person[ok],
                "module": np.full(int(ok.sum()), m.index, dtype=np.int8),
                "admission": admission[ok],
                "los": los[ok],
                "private": private[ok],
                "mmp": m.rehabilitation_mmp.sample(rng, len(sel))[ok],
                "ae": conditions["code"][np.maximum(case, 0)][ok],
                "of": sel[ok].astype(np.int32),
            }
        )
    if not parts:
        empty = {"person": np.int32, "module": np.int8, "admission": np.int32, "los": np.int32}
        empty |= {"private": bool, "mmp": np.int32, "ae": np.int32, "of": np.int32}
        return {k: np.zeros(0, dtype=t) for k, t in empty.items()}
    s = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    dept = pop.department[s["person"]]
    pool = np.where(
        s["private"][:, None],
        np.array(ctx.hospitals.by_department_private)[dept],
        np.array(ctx.hospitals.by_department_public)[dept][:, :2],
    )
    s["eta"] = pool[np.arange(len(dept)), rng.integers(0, 2, len(dept))].astype(np.int32)
    return s


def _tables(ctx: GenerationContext, rng, pop: Population, s) -> dict[str, pa.Table]:
    n = len(s["person"])
    person = s["person"]
    discharge = s["admission"] + s["los"]
    year = years_of(discharge)
    keys = {
        "ETA_NUM": take_strings(ctx.hospitals.finess, s["eta"]),
        "RHA_NUM": digits(s["rha"], 7),
    }
    dept = np.array(ctx.population.departments, dtype=object)[pop.department[person]]
    das_stay, das_code = _comorbidities(ctx, rng, pop, s)
    b = {
        **keys,
        "RHS_NUM": np.full(n, "1", dtype=object),
        "MOR_PRP": take_strings(ctx.icd, s["mmp"]),
        "ETL_AFF": take_strings(ctx.icd, s["ae"]),
        "AGE_ANN": np.floor(pop.age(s["admission"], person)),
        "COD_SEX": pop.sex[person].astype(str).astype(object),
        "BDI_DEP": np.array([d[1:] if d[0] == "0" else d[:2] for d in dept], dtype=object),
        "ENT_MOD": np.full(n, "6", dtype=object),  # transfer from another establishment
        "ENT_PRV": np.full(n, "1", dtype=object),  # from MCO
        "SOR_MOD": np.full(n, "8", dtype=object),
        "NBR_DGN": np.bincount(das_stay, minlength=n).astype(np.float64),
        "MOI_ANN_SOR_SEJ": yearmonth(discharge),
    }
    c = {
        **keys,
        "NIR_ANO_17": pop.nir_psa().take(
            pa.array(pop.identity_on(person, s["admission"], rng).astype(np.int64))
        ),
        "ENT_DAT": s["admission"],
        "SOR_DAT": discharge,
        "EXE_SOI_DTD": s["admission"],
        "EXE_SOI_DTF": discharge,
        "EXE_SOI_AMD": yearmonth(s["admission"]),
        "EXE_SOI_AMF": yearmonth(discharge),
        "SOR_MOI": month_start(month_index(discharge)),
        "SOR_ANN": year.astype(np.int32),
        **{name: np.zeros(n, dtype=bool) for name in RET_COLUMNS},
        "COH_NAI_RET": (np.zeros(n, dtype=bool), year < 2013),
        "COH_SEX_RET": (np.zeros(n, dtype=bool), year < 2013),
    }
    d = {
        "ETA_NUM": keys["ETA_NUM"].take(pa.array(das_stay)),
        "RHA_NUM": keys["RHA_NUM"].take(pa.array(das_stay)),
        "RHS_NUM": np.full(len(das_stay), "1", dtype=object),
        "DGN_COD": take_strings(ctx.icd, das_code),
    }
    out: dict[str, pa.Table] = {}
    for template, cols, rows_year in (
        ("T_SSRaaB", b, year),
        ("T_SSRaaC", c, year),
        ("T_SSRaaD", d, year[das_stay]),
    ):
        table = build_table(ctx.schemas[template], cols, len(rows_year))
        for y in ctx.years:
            out[template.replace("aa", f"{y % 100:02d}")] = table.filter(pa.array(rows_year == y))
    return out


def _comorbidities(ctx: GenerationContext, rng, pop: Population, s):
    """Associated diagnoses: the comorbidities of the care plan, by age band."""
    band = band_of(ctx.care.bands, pop.age(s["admission"], s["person"]))
    stays, codes = [], []
    for code, probs in ctx.care.comorbidities:
        sel = np.flatnonzero(rng.random(len(band)) < probs[band])
        stays.append(sel)
        codes.append(np.full(len(sel), code, dtype=np.int32))
    stay = np.concatenate(stays).astype(np.int64) if stays else np.zeros(0, np.int64)
    code = np.concatenate(codes) if codes else np.zeros(0, np.int32)
    order = np.argsort(stay, kind="stable")
    return stay[order], code[order]


def rehabilitation_table(ctx: GenerationContext, ssr: SsrResult, mco, idt) -> pa.Table:
    s = ssr.stays
    discharge = s["admission"] + s["los"]
    of = s["of"]
    written = bool(ssr.tables)
    return truth.table(
        "rehabilitation_stays",
        {
            "BEN_IDT_ANO": idt.take(pa.array(s["person"].astype(np.int64))),
            "condition": truth.module_names(ctx)[s["module"]],
            "table_name": (
                np.array([f"T_SSR{y % 100:02d}B" for y in years_of(discharge)], dtype=object),
                np.full(len(of), not written),
            ),
            "ETA_NUM": take_strings(ctx.hospitals.finess, s["eta"]),
            "RHA_NUM": digits(s["rha"], 7),
            "admission_date": s["admission"],
            "discharge_date": discharge,
            "MOR_PRP": take_strings(ctx.icd, s["mmp"]),
            "ETL_AFF": take_strings(ctx.icd, s["ae"]),
            "after_ETA_NUM": take_strings(ctx.hospitals.finess, mco["eta"][of]),
            "after_RSA_NUM": digits(mco["rsa"][of], 10),
        },
        len(of),
    )
