"""PMSI MCO stays → the per-year tables T_MCOaaB/C/D/A/UM (``aa`` = discharge year)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sndskit.synthetic.arrays import (
    digits,
    month_index,
    month_start,
    take_strings,
    yearmonth,
    years_of,
)
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.events import STAY_SESSION, UCD_PRICE
from sndskit.synthetic.population import Population
from sndskit.synthetic.schema import build_table

RET_BOOL_COLUMNS = ("NIR_RET", "SEX_RET", "SEJ_RET", "FHO_RET", "PMS_RET")
RET_SINCE_2013 = ("COH_NAI_RET", "COH_SEX_RET")
INVALID_NIR = ("xxxxxxxxxxxxxxxxx", "XXXXXXXXXXXXXXXXD", "XXXXXXXXXXXXXXXXS")
# trap codes in the stays table (0: a true stay)
T_DUPLICATE, T_ERROR_GHM, T_RET, T_INVALID_NIR, T_SEJ_TYP_B, T_RET_NULL = range(1, 7)


def build_pmsi_tables(
    ctx: GenerationContext,
    rng: np.random.Generator,
    pop: Population,
    s: dict[str, np.ndarray],
    das: tuple[np.ndarray, np.ndarray],
    acts: dict[str, np.ndarray],
) -> dict[str, pa.Table]:
    """Physical tables (``T_MCO19B`` …) of the final stays ``s``, their DAS and acts."""
    n = len(s["person"])
    sor_mod = np.where(s["died"], "9", np.where(rng.random(n) < 0.05, "7", "8"))
    nir = _pseudonyms(rng, pop, s)
    two_um = (s["los"] >= 2) & (rng.random(n) < 0.15) & (s["kind"] != STAY_SESSION)
    keys = {
        "ETA_NUM": take_strings(ctx.hospitals.finess, s["eta"]),
        "RSA_NUM": digits(s["rsa"], 10),
    }
    das_stay, das_code = das
    um = _um_rows(s, two_um, das_stay, das_code)
    year = years_of(s["admission"] + s["los"])
    out: dict[str, pa.Table] = {}
    for template, cols, owner in (
        ("T_MCOaaB", _stay_columns(ctx, pop, s, sor_mod, two_um, das_stay, acts), None),
        ("T_MCOaaC", _patient_columns(s, nir, year), None),
        ("T_MCOaaD", _das_columns(ctx, das_stay, das_code), das_stay),
        ("T_MCOaaA", _act_columns(ctx, acts), acts["stay"]),
        ("T_MCOaaUM", _um_columns(ctx, um), um["stay"]),
        *_drug_tables(ctx, s),
    ):
        if owner is None:
            cols.update(keys)
        else:
            cols.update({k: v.take(pa.array(owner)) for k, v in keys.items()})
        rows_year = year if owner is None else year[owner]
        table = build_table(ctx.schemas[template], cols, len(rows_year))
        for y in ctx.years:
            name = template.replace("aa", f"{y % 100:02d}")
            out[name] = table.filter(pa.array(rows_year == y))
    return out


def _pseudonyms(rng, pop: Population, s) -> pa.Array:
    """NIR_ANO_17 of each stay (the identity billed that day), placeholders for the trap."""
    identity = pop.identity_on(s["person"], s["admission"], rng)
    nir = pop.nir_psa().take(pa.array(identity.astype(np.int64)))
    invalid = s["trap"] == T_INVALID_NIR
    if invalid.any():
        placeholder = np.array(INVALID_NIR, dtype=object)[rng.integers(0, 3, int(invalid.sum()))]
        nir_np = np.array(nir.to_pylist(), dtype=object)
        nir_np[invalid] = placeholder
        nir = pa.array(nir_np, type=pa.string())
    return nir


def _stay_columns(ctx, pop: Population, s, sor_mod, two_um, das_stay, acts) -> dict:
    """T_MCOaaB: diagnoses, GHM, entry and discharge, patient's age, sex and residence."""
    n = len(s["person"])
    person = s["person"]
    discharge = s["admission"] + s["los"]
    age = pop.age(s["admission"], person)
    dept = np.array(ctx.population.departments, dtype=object)[pop.department[person]]
    bdi_dep = np.array([d[1:] if d[0] == "0" else d[:2] for d in dept], dtype=object)
    session = s["kind"] == STAY_SESSION
    return {
        "DGN_PAL": take_strings(ctx.icd, s["dp"]),
        "DGN_REL": take_strings(ctx.icd, s["dr"]),
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
        "NBR_DGN": np.bincount(das_stay, minlength=n).astype(np.int64),
        "NBR_RUM": np.where(two_um, 2, 1).astype(np.int64),
        "NBR_ACT": np.bincount(acts["stay"], minlength=n).astype(np.int64),
        "SOR_ANN": years_of(discharge).astype(np.int32),
        "SOR_MOI": month_start(month_index(discharge)),
        "TYP_GEN_RSA": np.zeros(n, dtype=np.int64),
        "SEQ_RUM": np.ones(n, dtype=np.int64),
    }


def _patient_columns(s, nir: pa.Array, year: np.ndarray) -> dict:
    """T_MCOaaC: pseudonym, dates and linkage return codes."""
    n = len(s["person"])
    discharge = s["admission"] + s["los"]
    c = {
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
        "DAT_RET": np.full(n, "0", dtype=object),
        # birth rank not transmitted reliably: twins cannot be told apart in PMSI
        "RNG_NAI": np.ones(n, dtype=np.int64),
        "RNG_BEN": np.full(n, "001", dtype=object),
        "SEJ_NUM": (s["rsa"] % 100_000).astype(np.int64),
        "ETA_NUM_RET": np.zeros(n, dtype=bool),
    }
    c.update(_return_codes(s, year >= 2013))
    return c


def _return_codes(s, since_2013: np.ndarray) -> dict:
    """``*_RET`` columns: 0 (false) but for the traps; COH_* exist from 2013 (NULL before)."""
    n = len(s["ret"])
    ret_true = {c: np.zeros(n, dtype=bool) for c in RET_BOOL_COLUMNS + RET_SINCE_2013}
    ret_null = {c: ~since_2013 if c in RET_SINCE_2013 else np.zeros(n, bool) for c in ret_true}
    ret_null["NAI_RET"] = np.zeros(n, dtype=bool)
    nai_ret = np.full(n, "0", dtype=object)
    null_trap = s["trap"] == T_RET_NULL
    for code, name in enumerate(ret_column_names(True)):
        sel = s["ret"] == code
        ret_null[name] |= sel & null_trap
        if name == "NAI_RET":
            nai_ret[sel & ~null_trap] = "1"
        else:
            ret_true[name][sel & ~null_trap] = True
    cols: dict[str, object] = {"NAI_RET": (nai_ret, ret_null["NAI_RET"])}
    for name in RET_BOOL_COLUMNS + RET_SINCE_2013:
        cols[name] = (ret_true[name], ret_null[name])
    return cols


def ret_column_names(since_2013: bool) -> tuple[str, ...]:
    """The *_RET columns a RET trap may set, in the order of the ``ret`` codes."""
    names = (*RET_BOOL_COLUMNS, "NAI_RET")
    return names + RET_SINCE_2013 if since_2013 else names


def _das_columns(ctx, das_stay, das_code) -> dict:
    return {"ASS_DGN": take_strings(ctx.icd, das_code), "DGN_ASS_NUM": _rank_plus_one(das_stay)}


def _act_columns(ctx, acts) -> dict:
    k = len(acts["stay"])
    return {
        "CDC_ACT": take_strings(ctx.ccam, acts["code"]),
        "ACV_ACT": np.full(k, "1", dtype=object),
        "PHA_ACT": np.full(k, "0", dtype=object),
        "NBR_EXE_ACT": np.ones(k, dtype=np.int64),
        "ENT_DAT_DEL": acts["offset"].astype(np.int64),
    }


def hospital_drug_stays(ctx, s) -> tuple[np.ndarray, np.ndarray]:
    """Stays with a hospital drug (MED for public hospitals, FH for private clinics).

    Copies of stays carry them like their acts; an inter-establishment copy does not.
    """
    given = (s["ucd"] >= 0) & (s["trap"] != T_SEJ_TYP_B)
    public = ctx.hospitals.public[s["eta"]]
    return np.flatnonzero(given & public), np.flatnonzero(given & ~public)


def _drug_tables(ctx, s) -> list[tuple[str, dict, np.ndarray]]:
    """T_MCOaaMED and T_MCOaaFH rows: the drug given on the session day (delay 0)."""
    public, private = hospital_drug_stays(ctx, s)
    out = []
    if "T_MCOaaMED" in ctx.schemas:
        day = s["admission"][public]
        out.append(
            (
                "T_MCOaaMED",
                {
                    "UCD_UCD_COD": take_strings(ctx.ucd, s["ucd"][public]),
                    "UCD_COD": take_strings([c[-7:] for c in ctx.ucd], s["ucd"][public]),
                    "ADM_NBR": s["ucd_qty"][public].astype(np.float64),
                    "DELAI": np.zeros(len(public), dtype=np.int64),
                    "ADM_MOIS": month_start(month_index(day)),
                    "DAT_ADM_ANN": years_of(day).astype(np.int32),
                    "NBR_SEJ": np.ones(len(public), dtype=np.int64),
                },
                public,
            )
        )
    if "T_MCOaaFH" in ctx.schemas:
        qty = s["ucd_qty"][private].astype(np.int64)
        day = s["admission"][private]
        out.append(
            (
                "T_MCOaaFH",
                {
                    "UCD_UCD_COD": take_strings(ctx.ucd, s["ucd"][private]),
                    "QUA_COD": qty,
                    "DEL_DAT_ENT": np.zeros(len(private), dtype=np.int64),
                    "ENT_ANN": years_of(day).astype(np.int32),
                    "ENT_MOI": month_start(month_index(day)),
                    "PRI_UNI_FAC": np.full(len(private), UCD_PRICE),
                    "FAC_TOT": qty * UCD_PRICE,
                },
                private,
            )
        )
    return out


def _um_columns(ctx, um) -> dict:
    return {
        "UM_ORD_NUM": um["order"],
        "DGN_PAL": take_strings(ctx.icd, um["dp"]),
        "DGN_REL": take_strings(ctx.icd, um["dr"]),
        "PAR_DUR_SEJ": um["los"],
        "ETA_NUM_GEO": take_strings(ctx.hospitals.finess, um["geo"]),
        "DGN_ASS_NBR": np.zeros(len(um["stay"]), dtype=np.int64),
    }


def _rank_plus_one(stay: np.ndarray) -> np.ndarray:
    starts = np.ones(len(stay), dtype=bool)
    starts[1:] = stay[1:] != stay[:-1]
    idx = np.arange(len(stay))
    return (idx - np.maximum.accumulate(np.where(starts, idx, 0)) + 1).astype(np.int64)


def _um_rows(s, two_um, das_stay, das_code) -> dict[str, np.ndarray]:
    n = len(s["person"])
    geo = np.where(s["site"] >= 0, s["site"], s["eta"])  # the unit's geographic FINESS
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
