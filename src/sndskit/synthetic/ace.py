"""Outpatient care of public hospitals (ACE) → PMSI T_MCOaaCSTC, FBSTC, FMSTC, FLSTC.

Public hospitals report their outpatient consultations, acts and biology in the PMSI
(ACE, "actes et consultations externes") and send them to the DCIR "for information"
(``DPN_QLF = PRS_DPN_QLP = 71``): the ``information_line`` trap. Each such DCIR line is
written here as its ACE record — ``T_MCOaaCSTC`` (patient, date, return codes) and one
detail row: a specialist consultation ``CS`` in ``FBSTC``, a CCAM act in ``FMSTC``, a
biology act in ``FLSTC`` — so that one visit is in both sources and must count once.
Written when the store's catalogue describes the tables; truth in ``outpatient_care``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sndskit.errors import SndskitError
from sndskit.synthetic import truth
from sndskit.synthetic.arrays import (
    digits,
    group_starts,
    month_index,
    month_start,
    rank_in_group,
    take_strings,
    yearmonth,
    years_of,
)
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.events import BIOLOGY, SPECIALIST, TECH_ACT
from sndskit.synthetic.population import Population
from sndskit.synthetic.schema import ACE_TABLES, build_table

KINDS = {SPECIALIST: ("consultation", "T_MCOaaFBSTC"), TECH_ACT: ("act", "T_MCOaaFMSTC")}
KINDS[BIOLOGY] = ("biology", "T_MCOaaFLSTC")
RET_COLUMNS = ("NIR_RET", "NAI_RET", "SEX_RET", "ENT_DAT_RET", "IAS_RET")


def seq_numbers(info: dict, chunk: int) -> np.ndarray:
    """SEQ_NUM (8 digits, unique per hospital and year): chunk × 10⁴ + rank in the chunk."""
    eta = info["eta"]
    order = np.lexsort((np.arange(len(eta)), eta))
    rank = np.empty(len(eta), dtype=np.int64)
    rank[order] = rank_in_group(group_starts(eta[order]))
    if len(rank) and rank.max() >= 10_000:
        raise SndskitError(
            "too many outpatient visits per hospital in one chunk for SEQ_NUM",
            field="chunk_size",
            hint="lower chunk_size",
        )
    return chunk * 10_000 + rank + 1


def build_ace(
    ctx: GenerationContext, pop: Population, info: dict, chunk: int
) -> dict[str, pa.Table]:
    """The ACE tables of the information lines ``info`` (empty without their schemas)."""
    if not all(t in ctx.schemas for t in ACE_TABLES):
        return {}
    n = len(info["person"])
    day = info["date"]
    year = years_of(day)
    keys = {
        "ETA_NUM": take_strings(ctx.hospitals.finess, info["eta"]),
        "SEQ_NUM": digits(seq_numbers(info, chunk), 8),
    }
    exits = {"SOR_ANN": year.astype(np.int32), "SOR_MOI": month_start(month_index(day))}
    nir = pop.nir_psa().take(pa.array(info["identity"].astype(np.int64)))
    patients = {
        **keys,
        "NIR_ANO_17": nir,
        "ENT_DAT": day,
        "SOR_DAT": day,
        "EXE_SOI_DTD": day,
        "EXE_SOI_DTF": day,
        "EXE_SOI_AMD": yearmonth(day),
        "EXE_SOI_AMF": yearmonth(day),
        **{name: np.zeros(n, dtype=bool) for name in RET_COLUMNS},
    }
    parts = [("T_MCOaaCSTC", patients, np.arange(n))]
    for kind, (_, template) in KINDS.items():
        sel = np.flatnonzero(info["kind"] == kind)
        cols = {k: v.take(pa.array(sel)) for k, v in keys.items()}
        cols.update({k: v[sel] for k, v in exits.items()})
        cols["DEL_DAT_ENT"] = np.zeros(len(sel), dtype=np.int64)
        if kind == SPECIALIST:
            cols |= {
                "ACT_COD": np.full(len(sel), "CS", dtype=object),
                "ACT_NBR": np.ones(len(sel), dtype=np.int64),
                "EXE_SPE": digits(info["spe"][sel], 2),
            }
        elif kind == TECH_ACT:
            cols |= {
                "CCAM_COD": take_strings(ctx.ccam, info["code"][sel]),
                "NIR_ANO_17": nir.take(pa.array(sel)),
                "ACV_ACT": np.full(len(sel), "1", dtype=object),
            }
        else:
            cols |= {
                "NABM_COD": take_strings(ctx.nabm, info["code"][sel]),
                "ACT_NBR": np.ones(len(sel), dtype=np.int64),
                "ANN_MOI": yearmonth(day[sel]),
            }
        parts.append((template, cols, sel))
    out: dict[str, pa.Table] = {}
    for template, cols, rows in parts:
        table = build_table(ctx.schemas[template], cols, len(rows))
        for y in ctx.years:
            out[template.replace("aa", f"{y % 100:02d}")] = table.filter(pa.array(year[rows] == y))
    return out


def outpatient_table(ctx: GenerationContext, info: dict, chunk: int, idt: pa.Array) -> pa.Table:
    """Every ACE visit once: in PMSI (when written) and as a DCIR information line."""
    n = len(info["person"])
    written = all(t in ctx.schemas for t in ACE_TABLES)
    kind = info["kind"]
    year = years_of(info["date"])
    label = np.array([KINDS[int(k)][0] for k in kind], dtype=object)
    detail = np.array(
        [KINDS[int(k)][1].replace("aa", f"{y % 100:02d}") for k, y in zip(kind, year, strict=True)],
        dtype=object,
    )
    cols = {k: info[k] for k in truth.SCHEMAS["outpatient_care"].names if k in info}
    cols.update(
        {
            "BEN_IDT_ANO": idt.take(pa.array(info["person"].astype(np.int64))),
            "kind": label,
            "code": _codes(ctx, kind, info["code"]),
            "specialty": (info["spe"].astype(np.int64), kind != SPECIALIST),
            "sources": np.full(n, "PMSI+DCIR" if written else "DCIR", dtype=object),
            "pmsi_table": (detail, np.full(n, not written)),
            "ETA_NUM": take_strings(ctx.hospitals.finess, info["eta"]),
            "SEQ_NUM": digits(seq_numbers(info, chunk), 8),
            "dcir_table": info["table_name"],
        }
    )
    return truth.table("outpatient_care", cols, n)


def _codes(ctx, kind, codes) -> pa.Array:
    """NABM or CCAM code of the act, null for a consultation."""
    registry = list(ctx.nabm) + list(ctx.ccam)
    index = np.where(kind == BIOLOGY, codes, np.where(kind == TECH_ACT, len(ctx.nabm) + codes, -1))
    return take_strings(registry, index)
