"""DCIR décomptes → Arrow tables: ER_PRS_F (base and complement lines) and its details
ER_PHA_F, ER_BIO_F, ER_CAM_F, ER_UCD_F, ER_ETE_F."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sndskit.synthetic.arrays import (
    MISSING_DATE,
    NO_DATE,
    group_starts,
    month_index,
    rank_in_group,
    take_strings,
    yearmonth,
    years_of,
)
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.dcir_truth import (
    slice_rows,
    truth_dispensings,
    truth_lines,
    truth_traps,
)
from sndskit.synthetic.events import (
    BIOLOGY,
    CONSULTATIONS,
    F_INFO71,
    F_TAA,
    GP,
    IMAGING,
    NURSE,
    PHARMACY,
    PRS_BASE,
    PRS_FLAT_FEE,
    PRS_FRANCHISE,
    PRS_MAJORATION,
    SPECIALIST,
    STAY_FEE,
    SURGERY_FEE,
    TECH_ACT,
    UCD,
    UCD_PRICE,
    VISIT,
)
from sndskit.synthetic.population import CDI_CODES, Population
from sndskit.synthetic.schema import build_table

AGGREGATED_KINDS = (PHARMACY, BIOLOGY, UCD)
CAM_KINDS = (IMAGING, TECH_ACT, SURGERY_FEE)  # lines with a CCAM act in ER_CAM_F

#                kind: (price, reimbursement rate %, PSE_ACT_NAT or 0)
_TARIFF = {
    GP: (25.0, 70, 0),
    SPECIALIST: (30.0, 70, 0),
    VISIT: (35.0, 70, 0),
    BIOLOGY: (6.0, 60, 30),
    IMAGING: (45.0, 70, 0),
    TECH_ACT: (25.0, 70, 0),
    NURSE: (9.0, 60, 24),
    UCD: (UCD_PRICE, 100, 52),
    STAY_FEE: (900.0, 80, 0),
    SURGERY_FEE: (250.0, 100, 0),
    PHARMACY: (0.0, 65, 50),
}
_PRESCRIBED = (PHARMACY, BIOLOGY, IMAGING, NURSE, UCD)


@dataclass
class DcirFrame:
    lines: dict[str, np.ndarray]  # sorted by décompte
    dct: np.ndarray  # décompte of each line
    prs: np.ndarray  # ER_PRS_F base line of each line
    prs_start: np.ndarray
    n_dct: int
    flx_dis: np.ndarray  # per décompte
    flx_trt: np.ndarray
    chunk: int


@dataclass
class DcirResult:
    tables: dict[str, pa.Table]
    truth_dispensings: dict[str, np.ndarray | pa.Array]
    truth_traps: dict[str, np.ndarray | pa.Array]
    truth_biology: dict[str, np.ndarray | pa.Array]
    truth_procedures: dict[str, np.ndarray | pa.Array]  # ER_CAM_F lines (town and clinic)
    truth_consultations: dict[str, np.ndarray | pa.Array]  # ER_PRS_F consultation lines
    information_lines: dict[str, np.ndarray | pa.Array]  # DPN_QLF = 71: activity in PMSI ACE


@dataclass
class PrsRows:
    """ER_PRS_F rows: a base row per group of lines, plus complement rows (fees, franchises).

    ``row`` holds, per ER_PRS_F row, the values of the first line of its base group.
    """

    row: dict[str, np.ndarray]
    src: np.ndarray  # base group of each row
    typ: np.ndarray  # PRS_BASE or a complement type
    dct: np.ndarray  # décompte of each row
    prs_ord: np.ndarray  # PRS_ORD_NUM
    qty: np.ndarray  # per row: summed quantity of the base group, 0 for complements
    amount: np.ndarray  # per row: summed amount of the base group, 0 for complements
    n_base: int

    @property
    def n(self) -> int:
        return len(self.src)


def build_tables(
    ctx: GenerationContext, rng: np.random.Generator, pop: Population, f: DcirFrame
) -> DcirResult:
    lines = f.lines
    price = _unit_price(ctx, lines)
    p = _prs_rows(ctx, rng, f, price)
    keys = _flux_keys(ctx, pop, f, p)
    flux_year = years_of(keys["FLX_DIS_DTD"])
    lag = (month_index(keys["FLX_DIS_DTD"]) - month_index(p.row["date"])).astype(np.int64)
    missing = (rng.random(p.n) < ctx.config.traps.missing_date) & (p.typ == PRS_BASE)
    prescribed = np.isin(p.row["kind"], _PRESCRIBED)
    prs_cols = {
        **keys,
        **_beneficiary_columns(ctx, pop, p, keys),
        **_care_columns(ctx, rng, p, missing, prescribed),
        **_amount_columns(ctx, p),
    }
    tables: dict[str, list[tuple[pa.Table, np.ndarray]]] = {}
    _add(tables, "ER_PRS_F", build_table(ctx.schemas["ER_PRS_F"], prs_cols, p.n), flux_year)

    line_row = _row_of_base(p.src, p.typ, p.n_base)[f.prs]  # ER_PRS_F row of each line
    line_flux_year = flux_year[line_row]
    detail_ord = rank_in_group(group_starts(f.prs)) + 1
    cip7_only = _details(ctx, rng, tables, lines, keys, line_row, line_flux_year, detail_ord, price)
    _establishments(ctx, tables, p, keys, flux_year)
    trap_rows = truth_traps(
        ctx,
        p.row,
        p.typ,
        keys,
        flux_year,
        lag,
        missing,
        prescribed,
        lines,
        line_row,
        line_flux_year,
        detail_ord,
        cip7_only,
    )
    located = (ctx, lines, keys, line_row, line_flux_year, detail_ord)
    return DcirResult(
        tables=_physical_names(ctx, tables),
        truth_dispensings=truth_dispensings(*located),
        truth_traps=trap_rows,
        truth_biology=truth_lines(*located, (BIOLOGY,), "ER_BIO_F"),
        truth_procedures=truth_lines(*located, CAM_KINDS, "ER_CAM_F"),
        truth_consultations=truth_lines(*located, CONSULTATIONS, "ER_PRS_F", coded=False),
        information_lines=truth_lines(
            *located, (SPECIALIST, BIOLOGY, TECH_ACT), "ER_PRS_F", coded=False, flag=F_INFO71
        ),
    )


def _prs_rows(ctx: GenerationContext, rng, f: DcirFrame, price: np.ndarray) -> PrsRows:
    """Base rows (one per group of lines) and complement rows, in décompte order."""
    lines = f.lines
    traps = ctx.config.traps
    first = np.flatnonzero(f.prs_start)  # base ER_PRS_F rows: first line of each
    base = {k: v[first] for k, v in lines.items()}
    n_base = len(first)
    if n_base:
        qty = np.add.reduceat(lines["qty"].astype(np.int64), first)
        amount = np.add.reduceat(price * lines["qty"], first)
    else:
        qty, amount = np.zeros(0, np.int64), np.zeros(0)
    consult = np.isin(base["kind"], CONSULTATIONS) & (base["flags"] == 0)
    pharmacy = (base["kind"] == PHARMACY) & (base["flags"] == 0)
    comp_src, comp_type = [], []
    for mask, typ, rate in (
        (consult, PRS_FLAT_FEE, traps.flat_fee),
        (consult, PRS_MAJORATION, traps.majoration),
        (pharmacy, PRS_FRANCHISE, traps.franchise),
    ):
        sel = np.flatnonzero(mask & (rng.random(n_base) < rate))
        comp_src.append(sel)
        comp_type.append(np.full(len(sel), typ, dtype=np.int8))
    src = np.concatenate([np.arange(n_base), *comp_src]).astype(np.int64)
    typ = np.concatenate([np.zeros(n_base, dtype=np.int8), *comp_type])
    dct = f.dct[first][src]
    order = np.lexsort((np.arange(len(src)), typ, dct))
    src, typ, dct = src[order], typ[order], dct[order]
    is_base = typ == PRS_BASE
    return PrsRows(
        row={k: v[src] for k, v in base.items()},
        src=src,
        typ=typ,
        dct=dct,
        prs_ord=rank_in_group(group_starts(dct)) + 1,
        qty=np.where(is_base, qty[src], 0),
        amount=np.where(is_base, amount[src], 0.0),
        n_base=n_base,
    )


def _flux_keys(ctx: GenerationContext, pop: Population, f: DcirFrame, p: PrsRows) -> dict:
    """The 9 keys joining the details to ER_PRS_F (primer §3)."""
    person = p.row["person"]
    org_flat, org_off = _org_table(ctx)
    return {
        "FLX_DIS_DTD": f.flx_dis[p.dct],
        "FLX_TRT_DTD": f.flx_trt[p.dct],
        "FLX_EMT_TYP": ctx.population.scheme_typ[pop.scheme[person]].astype(np.int64),
        "FLX_EMT_NUM": pop.emitter[person].astype(np.int64),
        "FLX_EMT_ORD": np.full(p.n, f.chunk % 10_000, dtype=np.int64),
        "ORG_CLE_NUM": take_strings(org_flat, org_off[pop.department[person]] + pop.org[person]),
        "DCT_ORD_NUM": p.dct + 1,
        "PRS_ORD_NUM": p.prs_ord,
        "REM_TYP_AFF": np.ones(p.n, dtype=np.int64),
    }


def _beneficiary_columns(ctx: GenerationContext, pop: Population, p: PrsRows, keys) -> dict:
    person, identity, date = p.row["person"], p.row["identity"], p.row["date"]
    death = pop.recorded_death[person]
    dead = death < NO_DATE
    age = pop.age(date, person)
    return {
        "BEN_NIR_PSA": pop.nir_psa().take(pa.array(identity.astype(np.int64))),
        "BEN_RNG_GEM": pop.id_rng[identity].astype(np.int64),
        "BEN_CDI_NIR": take_strings(CDI_CODES, pop.id_cdi[identity]),
        "BEN_SEX_COD": pop.sex[person].astype(np.int64),
        "BEN_NAI_ANN": years_of(pop.birth[person]).astype(np.int32),
        "BEN_AMA_COD": np.where(
            age >= 2, np.minimum(np.floor(age), 130), 1000 + np.floor(age * 12)
        ).astype(np.int64),
        "BEN_RES_DPT": take_strings(ctx.population.departments, pop.department[person]),
        "BEN_DCD_DTE": np.where(dead, death, MISSING_DATE),
        "BEN_DCD_AME": yearmonth(np.where(dead, death, MISSING_DATE)),
        "ORG_AFF_BEN": keys["ORG_CLE_NUM"],
        "RGM_GRG_COD": ctx.population.scheme_rgm[pop.scheme[person]].astype(np.int64),
        "BEN_CMU_TOP": pop.c2s[person].astype(np.int64),
    }


def _care_columns(ctx: GenerationContext, rng, p: PrsRows, missing, prescribed) -> dict:
    """Care dates, natures of service, quality columns and professionals' specialties."""
    row, typ = p.row, p.typ
    kind, date = row["kind"], row["date"]
    pre_date = date - rng.integers(0, 61, p.n)
    act_nat = np.array([_TARIFF.get(int(k), (0, 0, 0))[2] for k in range(12)])[kind]
    nature_ref = row["nature"]
    bse_nat = np.where((typ == PRS_FLAT_FEE) | (typ == PRS_FRANCHISE), 0, nature_ref)
    cpl_nat = np.select(
        [typ == PRS_FLAT_FEE, typ == PRS_MAJORATION, typ == PRS_FRANCHISE],
        [ctx.slots["nat_flat_fee"], ctx.slots["nat_majoration"], ctx.slots["nat_franchise"]],
        0,
    )
    info = (row["flags"] & F_INFO71) > 0
    dpn = np.where(info & (typ == PRS_BASE), 71, 0)
    prescriber = np.where(
        prescribed, np.where(row["module"] > 0, _prescriber(ctx, row["module"]), 1), 0
    )
    return {
        "EXE_SOI_DTD": date,
        "EXE_SOI_DTF": np.where(missing, MISSING_DATE, date),
        "EXE_SOI_AMD": yearmonth(date),
        "EXE_SOI_AMF": yearmonth(np.where(missing, MISSING_DATE, date)),
        "PRE_PRE_DTD": (np.where(missing, MISSING_DATE, pre_date), ~prescribed),
        "PRE_PRE_AMD": (yearmonth(np.where(missing, MISSING_DATE, pre_date)), ~prescribed),
        "PRS_NAT_REF": nature_ref.astype(np.int64),
        "BSE_PRS_NAT": bse_nat.astype(np.int64),
        "CPL_PRS_NAT": cpl_nat.astype(np.int64),
        "CPL_MAJ_TOP": np.where(typ == PRS_MAJORATION, 2, 0).astype(np.int64),
        "CPL_AFF_COD": np.select([typ == PRS_FLAT_FEE, typ == PRS_MAJORATION], [16, 18], 0).astype(
            np.int64
        ),
        "DPN_QLF": dpn.astype(np.int64),
        "PRS_DPN_QLP": dpn.astype(np.int64),
        "PSE_SPE_COD": (row["spe"].astype(np.int64), np.isin(kind, (PHARMACY, UCD, NURSE))),
        "PSE_ACT_NAT": (act_nat.astype(np.int64), act_nat == 0),
        "PSP_SPE_COD": (prescriber.astype(np.int64), ~prescribed),
        "PRS_PPU_SEC": (
            np.where(ctx.hospitals.public[np.maximum(row["eta"], 0)], 1, 2).astype(np.int64),
            row["eta"] < 0,
        ),
    }


def _amount_columns(ctx: GenerationContext, p: PrsRows) -> dict:
    """Quantities, bases, reimbursed amounts and signs (complement amounts included)."""
    row, typ, q, base_amount = p.row, p.typ, p.qty, p.amount
    kind = row["kind"]
    rate_pct = np.array([_TARIFF.get(int(k), (0, 0, 0))[1] for k in range(12)])[kind]
    ph1 = (kind == PHARMACY) & (row["nature"] == ctx.slots["nat_ph1"])
    rate_pct = np.where(ph1, 100, rate_pct)
    cpl_amount = np.select(
        [typ == PRS_FLAT_FEE, typ == PRS_MAJORATION, typ == PRS_FRANCHISE],
        [-1.0, 5.0, -0.5 * np.maximum(q, 1)],
        0.0,
    )
    return {
        "PRS_ACT_QTE": q.astype(np.float64),
        "PRS_ACT_CFT": np.ones(p.n),
        "BSE_REM_BSE": base_amount,
        "BSE_REM_PRU": np.where(q != 0, base_amount / np.where(q == 0, 1, q), 0.0),
        "BSE_REM_MNT": np.round(base_amount * rate_pct / 100, 2),
        "BSE_REM_SGN": np.where(base_amount < 0, 2, 1).astype(np.int64),
        "PRS_PAI_MNT": base_amount,
        "RGO_REM_TAU": rate_pct.astype(np.float64),
        "CPL_REM_BSE": np.abs(cpl_amount),
        "CPL_REM_MNT": cpl_amount,
        "CPL_REM_SGN": np.where(cpl_amount < 0, 2, np.where(cpl_amount > 0, 1, 0)).astype(np.int64),
    }


def _establishments(ctx: GenerationContext, tables, p: PrsRows, keys, flux_year) -> None:
    """ER_ETE_F: one row per base line executed by an establishment."""
    ete = np.flatnonzero((p.typ == PRS_BASE) & (p.row["eta"] >= 0))
    eta = p.row["eta"][ete]
    public = ctx.hospitals.public[eta]
    taa = np.where((p.row["flags"][ete] & F_TAA) > 0, 1, np.where(public, 0, 2))
    cols = {k: slice_rows(v, ete) for k, v in keys.items()}
    cols.update(
        {
            "ETB_EXE_FIN": take_strings([fin[:8] for fin in ctx.hospitals.finess], eta),
            "ETE_IND_TAA": taa.astype(np.int64),
            "PRS_PPU_SEC": np.where(public, 1, 2).astype(np.int64),
            "ETE_CAT_COD": ctx.hospitals.category[eta].astype(np.int64),
            "ETE_TYP_COD": np.where(public, 1, 4).astype(np.int64),
        }
    )
    table = build_table(ctx.schemas["ER_ETE_F"], cols, len(ete))
    _add(tables, "ER_ETE_F", table, flux_year[ete])


def _details(
    ctx, rng, tables, lines, keys, line_row, line_flux_year, detail_ord, price
) -> np.ndarray:
    """ER_PHA_F, ER_BIO_F, ER_CAM_F and ER_UCD_F rows; returns the CIP7-only line mask."""
    kind = lines["kind"]
    cip7_only = np.zeros(len(kind), dtype=bool)
    pharmacy = np.flatnonzero(kind == PHARMACY)
    pha, cip7_only[pharmacy] = _pharmacy_columns(ctx, rng, lines, pharmacy, price)
    biology = np.flatnonzero(kind == BIOLOGY)
    acts = np.flatnonzero(np.isin(kind, CAM_KINDS) & (lines["code"] >= 0))
    ucd = np.flatnonzero(kind == UCD)
    for template, sel, cols, ord_column in (
        ("ER_PHA_F", pharmacy, pha, "PHA_ORD_NUM"),
        ("ER_BIO_F", biology, _biology_columns(ctx, lines, biology), "BIO_ORD_NUM"),
        ("ER_CAM_F", acts, _act_columns(ctx, lines, acts, price), "CAM_ORD_NUM"),
        ("ER_UCD_F", ucd, _ucd_columns(ctx, lines, ucd), "UCD_ORD_NUM"),
    ):
        cols.update({k: slice_rows(v, line_row[sel]) for k, v in keys.items()})
        cols[ord_column] = detail_ord[sel]
        table = build_table(ctx.schemas[template], cols, len(sel))
        _add(tables, template, table, line_flux_year[sel])
    return cip7_only


def _pharmacy_columns(ctx, rng, lines, sel, price) -> tuple[dict, np.ndarray]:
    """ER_PHA_F columns, and which lines carry only the CIP7 (older years)."""
    cfg = ctx.config
    box = lines["code"][sel]
    cip7 = [c or "" for c in ctx.boxes.cip7]
    has_cip7 = np.array([bool(c) for c in ctx.boxes.cip7])[box]
    old = years_of(lines["date"][sel]) <= cfg.cip7_only_until_year
    only7 = old & has_cip7 & (rng.random(len(sel)) < cfg.traps.cip7_only)
    cols = {
        "PHA_PRS_C13": take_strings(ctx.boxes.cip13, np.where(only7, -1, box)),
        "PHA_PRS_IDE": take_strings(cip7, np.where(has_cip7, box, -1)),
        "PHA_ACT_QSN": lines["qty"][sel].astype(np.int64),
        "PHA_ACT_PRU": price[sel],
        "PHA_SEQ_RNV": (lines["episode"][sel] >= 0).astype(np.int64),
    }
    return cols, only7


def _biology_columns(ctx, lines, sel) -> dict:
    """ER_BIO_F columns (cast to an integer column with ``nabm_as_integer``)."""
    return {
        "BIO_PRS_IDE": take_strings(ctx.nabm, lines["code"][sel]),
        "BIO_ACT_QSN": lines["qty"][sel].astype(np.int64),
    }


def _act_columns(ctx, lines, sel, price) -> dict:
    return {
        "CAM_PRS_IDE": take_strings(ctx.ccam, lines["code"][sel]),
        "CAM_ACT_COD": "1",
        "CAM_TRT_PHA": np.zeros(len(sel), dtype=np.int64),
        "CAM_ACT_PRU": price[sel],
        "CAM_REM_BSE": price[sel],
    }


def _ucd_columns(ctx, lines, sel) -> dict:
    qty = lines["qty"][sel].astype(np.int64)
    return {
        "UCD_UCD_COD": take_strings(ctx.ucd, lines["code"][sel]),
        "UCD_DLV_NBR": qty,
        "UCD_TOP_UCD": np.ones(len(sel), dtype=np.int64),
        "UCD_FAC_PRU": np.full(len(sel), UCD_PRICE),
        "UCD_TTF_MNT": qty * UCD_PRICE,
    }


def _unit_price(ctx: GenerationContext, lines) -> np.ndarray:
    kind = lines["kind"]
    price = np.array([_TARIFF.get(int(k), (0.0, 0, 0))[0] for k in range(12)])[kind]
    pharmacy = kind == PHARMACY
    price[pharmacy] = ctx.box_arrays["price"][lines["code"][pharmacy]]
    return price


def _prescriber(ctx: GenerationContext, module: np.ndarray) -> np.ndarray:
    spe = np.ones(len(ctx.modules) + 1, dtype=np.int64)
    for m in ctx.modules:
        if m.specialists:
            spe[m.index] = m.specialists[0][0]
    return spe[module]


def _org_table(ctx: GenerationContext) -> tuple[list[str], np.ndarray]:
    flat: list[str] = []
    offsets = []
    for codes in ctx.population.org_codes:
        offsets.append(len(flat))
        flat.extend(codes)
    return flat, np.array(offsets, dtype=np.int64)


def _row_of_base(src: np.ndarray, typ: np.ndarray, n_base: int) -> np.ndarray:
    pos = np.empty(n_base, dtype=np.int64)
    pos[src[typ == PRS_BASE]] = np.flatnonzero(typ == PRS_BASE)
    return pos


def _add(tables, template: str, table: pa.Table, flux_year: np.ndarray) -> None:
    tables.setdefault(template, []).append((table, flux_year))


def _physical_names(ctx: GenerationContext, tables) -> dict[str, pa.Table]:
    """Rows of flux years before ``dcir_suffixed_before`` go to ``TEMPLATE_AAAA`` tables."""
    out: dict[str, pa.Table] = {}
    cutoff = ctx.config.dcir_suffixed_before
    for template, parts in tables.items():
        for table, year in parts:
            suffixed = np.zeros(len(year), bool) if cutoff is None else year < cutoff
            if not ctx.config.dcir_yearly_tables:
                kept = table if not suffixed.any() else table.filter(pa.array(~suffixed))
                out[template] = _append(out.get(template), kept)
            for y in np.unique(year[suffixed]):
                name = f"{template}_{int(y)}"
                out[name] = _append(out.get(name), table.filter(pa.array(year == y)))
    return out


def _append(existing: pa.Table | None, table: pa.Table) -> pa.Table:
    return table if existing is None else pa.concat_tables([existing, table])
