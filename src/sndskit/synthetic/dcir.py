"""Town care lines → DCIR tables (ER_PRS_F and its details), flux keys and DCIR traps.

Lines of one person, day, establishment and kind form a décompte (claim); pharmacy and
biology lines of one décompte and nature of service form one ``ER_PRS_F`` line whose
details (``ER_PHA_F``, ``ER_BIO_F``, ``ER_UCD_F`` rows) join it on the 9 flux keys —
a 1-n join, as in the real DCIR. Each décompte arrives in a flux month after the care
month (lag distribution: 99 % within 6 months by default).
"""

from __future__ import annotations

import numpy as np

from sndskit.synthetic.arrays import day, group_starts, month_index, month_start
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.dcir_tables import AGGREGATED_KINDS, DcirFrame, DcirResult, build_tables
from sndskit.synthetic.events import (
    BIOLOGY,
    CONSULTATIONS,
    F_ARCHIVE_CANCEL,
    F_ARCHIVE_DUPLICATE,
    F_INFO71,
    F_REG_CANCEL,
    F_REG_DUPLICATE,
    F_SPURIOUS,
    F_SPURIOUS_CANCEL,
    F_TAA,
    IMAGING,
    PHARMACY,
    SPECIALIST,
    STAY_FEE,
    STAY_SESSION,
    SURGERY_FEE,
    TECH_ACT,
    UCD,
)
from sndskit.synthetic.pmsi import PmsiResult
from sndskit.synthetic.population import Population
from sndskit.synthetic.spec import ARCHIVE_YEAR


def build_dcir(
    ctx: GenerationContext,
    rng: np.random.Generator,
    pop: Population,
    lines: dict[str, np.ndarray],
    pmsi: PmsiResult,
    chunk: int,
) -> DcirResult:
    lines = _attach_hospital_lines(ctx, rng, lines, pmsi)
    keep = (lines["date"] >= ctx.start) & (lines["date"] <= ctx.end)
    keep &= lines["date"] <= pop.death[lines["person"]]
    lines = {k: v[keep] for k, v in lines.items()}
    lines = _plant_line_traps(ctx, rng, pop, lines)
    frame = _decomptes(ctx, rng, pop, lines, chunk)
    return build_tables(ctx, rng, pop, frame)


# -- lines from hospital stays -------------------------------------------------------------
def _attach_hospital_lines(ctx, rng, lines, pmsi: PmsiResult) -> dict[str, np.ndarray]:
    s = pmsi.stays
    true = s["trap"] == 0
    eta_of_stay = np.full(max(int(s["id"].max(initial=-1)) + 1, 1), -1, dtype=np.int32)
    eta_of_stay[s["id"][true]] = s["eta"][true]
    # UCD lines of private-clinic sessions: executed by the session's clinic
    ucd = lines["kind"] == UCD
    stay = lines["stay"]
    has_stay = ucd & (stay >= 0)
    eta = lines["eta"].copy()
    eta[has_stay] = eta_of_stay[np.minimum(stay[has_stay], len(eta_of_stay) - 1)]
    drop = has_stay & (eta < 0)  # its session was dropped (death, out of period)
    lines = {k: v[~drop] for k, v in lines.items()}
    lines["eta"] = eta[~drop]
    extra = []
    public = true & ~s["private"] & ctx.hospitals.public[s["eta"]]
    echo = public & (rng.random(len(public)) < ctx.config.traps.ete_ind_taa)
    idx = np.flatnonzero(echo)
    groups = _new_groups(lines, len(idx))
    extra.append(
        _lines(
            person=s["person"][idx],
            date=s["admission"][idx],
            kind=STAY_FEE,
            eta=s["eta"][idx],
            stay=s["id"][idx],
            flags=F_TAA,
            group=groups,
            module=s["module"][idx],
        )
    )
    with_ucd = s["ucd"][idx] >= 0
    extra.append(
        _lines(
            person=s["person"][idx][with_ucd],
            date=s["admission"][idx][with_ucd],
            kind=UCD,
            code=s["ucd"][idx][with_ucd],
            qty=s["ucd_qty"][idx][with_ucd],
            eta=s["eta"][idx][with_ucd],
            stay=s["id"][idx][with_ucd],
            flags=F_TAA,
            group=groups[with_ucd],
            module=s["module"][idx][with_ucd],
        )
    )
    extra.append(_private_clinic_acts(ctx, rng, pmsi))
    return _concat(lines, extra)


def _private_clinic_acts(ctx, rng, pmsi: PmsiResult) -> dict[str, np.ndarray]:
    """Physicians' fees of private-clinic stays: each act also billed in ER_CAM_F.

    Dated on the act's day (stay entry + ENT_DAT_DEL), like the PMSI act: one act, two
    sources (legitimate lines, ``ETE_IND_TAA = 2``).
    """
    s, a = pmsi.stays, pmsi.acts
    stay = a["stay"]
    billed = (s["trap"][stay] == 0) & s["private"][stay] & (s["kind"][stay] != STAY_SESSION)
    billed &= rng.random(len(stay)) < ctx.config.traps.private_act_in_dcir
    act = np.flatnonzero(billed)
    stay = stay[act]
    return _lines(
        person=s["person"][stay],
        date=s["admission"][stay] + a["offset"][act],
        kind=SURGERY_FEE,
        code=a["code"][act],
        eta=s["eta"][stay],
        stay=s["id"][stay],
        module=s["module"][stay],
        act=act,
    )


def _lines(**cols) -> dict[str, np.ndarray]:
    n = len(cols["person"])
    out = {
        "person": cols["person"].astype(np.int32),
        "date": cols["date"].astype(np.int32),
        "kind": np.full(n, cols["kind"], dtype=np.int8),
        "code": np.broadcast_to(np.asarray(cols.get("code", -1), dtype=np.int32), (n,)).copy(),
        "qty": np.broadcast_to(np.asarray(cols.get("qty", 1), dtype=np.int16), (n,)).copy(),
        "spe": np.broadcast_to(np.asarray(cols.get("spe", 0), dtype=np.int16), (n,)).copy(),
        "module": np.broadcast_to(np.asarray(cols.get("module", 0), dtype=np.int8), (n,)).copy(),
        "eta": np.broadcast_to(np.asarray(cols.get("eta", -1), dtype=np.int32), (n,)).copy(),
        "episode": np.full(n, -1, dtype=np.int32),
        "stay": np.broadcast_to(np.asarray(cols.get("stay", -1), dtype=np.int32), (n,)).copy(),
        "flags": np.full(n, cols.get("flags", 0), dtype=np.int16),
        "group": np.broadcast_to(np.asarray(cols.get("group", 0), dtype=np.int64), (n,)).copy(),
        "lag_extra": np.broadcast_to(
            np.asarray(cols.get("lag_extra", 0), dtype=np.int8), (n,)
        ).copy(),
        "flux": np.broadcast_to(np.asarray(cols.get("flux", -1), dtype=np.int32), (n,)).copy(),
        "act": np.broadcast_to(np.asarray(cols.get("act", -1), dtype=np.int32), (n,)).copy(),
    }
    return out


def _concat(lines, extra) -> dict[str, np.ndarray]:
    return {k: np.concatenate([lines[k]] + [e[k] for e in extra]) for k in lines}


def _new_groups(lines, n: int) -> np.ndarray:
    start = int(lines["group"].max(initial=0)) + 1
    return np.arange(start, start + n, dtype=np.int64)


# -- traps on lines --------------------------------------------------------------------
def _plant_line_traps(ctx: GenerationContext, rng, pop: Population, lines) -> dict[str, np.ndarray]:
    lines = _concat(lines, _information_lines(ctx, rng, pop, lines))
    extra = _regularisations(ctx, rng, lines)
    extra += _cancelled_dispensings(ctx, rng, pop, lines, len(extra[0]["person"]) if extra else 0)
    lines = _concat(lines, extra) if extra else lines
    return _plant_archive_cancellations(ctx, rng, lines)


def _information_lines(ctx: GenerationContext, rng, pop: Population, lines) -> list[dict]:
    """Hospital outpatient lines sent for information (DPN_QLF = 71), already in PMSI."""
    town = np.isin(lines["kind"], (*CONSULTATIONS, BIOLOGY, IMAGING, TECH_ACT))
    k = int(
        rng.binomial(int((town & (lines["flags"] == 0)).sum()), ctx.config.traps.information_line)
    )
    if not k:
        return []
    person, date = _random_person_days(ctx, rng, pop, k)
    which = rng.random(k)
    info_kind = np.where(which < 0.5, SPECIALIST, np.where(which < 0.8, BIOLOGY, TECH_ACT))
    code = np.full(k, -1, dtype=np.int32)
    bio_pool = sorted(
        {c for m in ctx.modules for c, _ in m.biology} | set(ctx.care.biology.indices.tolist())
    )
    act_pool = sorted(
        {c for m in ctx.modules for c, _ in m.acts} | set(ctx.care.imaging.indices.tolist())
    )
    b = info_kind == BIOLOGY
    code[b] = np.array(bio_pool, dtype=np.int32)[rng.integers(0, len(bio_pool), int(b.sum()))]
    t = info_kind == TECH_ACT
    code[t] = np.array(act_pool, dtype=np.int32)[rng.integers(0, len(act_pool), int(t.sum()))]
    spe = np.where(
        info_kind == SPECIALIST,
        ctx.care.specialist_spe[rng.integers(0, len(ctx.care.specialist_spe), k)],
        np.where(b, 38, 3),
    )
    eta = np.array(ctx.hospitals.by_department_public)[
        pop.department[person], rng.integers(0, 3, k)
    ]
    info = _lines(
        person=person,
        date=date,
        kind=0,
        code=code,
        spe=spe,
        eta=eta,
        flags=F_INFO71,
        group=_new_groups(lines, k),
    )
    info["kind"] = info_kind.astype(np.int8)
    return [info]


def _regularisations(ctx: GenerationContext, rng, lines) -> list[dict]:
    """An erroneous duplicate of a true drug line, cancelled in a later flux."""
    pharmacy = np.flatnonzero((lines["kind"] == PHARMACY) & (lines["flags"] == 0))
    chosen = pharmacy[rng.random(len(pharmacy)) < ctx.config.traps.regularisation]
    if not len(chosen):
        return []
    dup = {k: v[chosen].copy() for k, v in lines.items()}
    dup["flags"][:] = F_REG_DUPLICATE
    dup["episode"][:] = -1
    dup["group"] = _new_groups(lines, len(chosen))
    dup["lag_extra"] = rng.integers(0, 2, len(chosen)).astype(np.int8)
    cancel = {k: v.copy() for k, v in dup.items()}
    cancel["flags"][:] = F_REG_CANCEL
    cancel["qty"] = -dup["qty"]
    cancel["group"] = dup["group"] + len(chosen)
    cancel["lag_extra"] = (dup["lag_extra"] + rng.integers(1, 4, len(chosen))).astype(np.int8)
    return [dup, cancel]


def _cancelled_dispensings(ctx: GenerationContext, rng, pop, lines, regularised: int) -> list:
    """A disease-module drug dispensed to a random person, cancelled later (sum 0)."""
    pharmacy = (lines["kind"] == PHARMACY) & (lines["flags"] == 0)
    k = int(rng.binomial(int(pharmacy.sum()), ctx.config.traps.cancelled_dispensing))
    module_boxes = sorted(
        {int(b) for m in ctx.modules for d in m.drugs for b in np.concatenate([d.small, d.large])}
    )
    if not k or not module_boxes:
        return []
    person, date = _random_person_days(ctx, rng, pop, k)
    start = int(lines["group"].max(initial=0)) + 1 + 2 * regularised
    groups = np.arange(start, start + k, dtype=np.int64)
    box = np.array(module_boxes, dtype=np.int32)[rng.integers(0, len(module_boxes), k)]
    spurious = _lines(
        person=person, date=date, kind=PHARMACY, code=box, qty=1, flags=F_SPURIOUS, group=groups
    )
    cancel = {key: v.copy() for key, v in spurious.items()}
    cancel["flags"][:] = F_SPURIOUS_CANCEL
    cancel["qty"][:] = -1
    cancel["group"] = groups + k
    cancel["lag_extra"] = rng.integers(1, 4, k).astype(np.int8)
    return [spurious, cancel]


def _plant_archive_cancellations(ctx: GenerationContext, rng, lines) -> dict[str, np.ndarray]:
    """A 2012 dispensing billed twice in a 2012 flux, the duplicate cancelled in 2013.

    Netting within one generation of tables (archive ``ER_PHA_F_2012``, then ``ER_PHA_F``)
    keeps the duplicate: quantities must be summed over the union of generations.
    """
    first, last = day(f"{ARCHIVE_YEAR - 1}-01-01"), day(f"{ARCHIVE_YEAR - 1}-11-30")
    date = lines["date"]
    true_drug = (lines["kind"] == PHARMACY) & (lines["flags"] == 0)
    candidates = np.flatnonzero(true_drug & (date >= first) & (date <= last))
    chosen = candidates[rng.random(len(candidates)) < ctx.config.traps.archive_cancellation]
    k = len(chosen)
    if k == 0:
        return lines
    dup = {key: v[chosen].copy() for key, v in lines.items()}
    dup["flags"][:] = F_ARCHIVE_DUPLICATE
    dup["episode"][:] = -1
    dup["group"] = _new_groups(lines, k)
    dup["flux"] = (month_index(dup["date"]) + 1).astype(np.int32)  # still a 2012 flux
    cancel = {key: v.copy() for key, v in dup.items()}
    cancel["flags"][:] = F_ARCHIVE_CANCEL
    cancel["qty"] = -dup["qty"]
    cancel["group"] = dup["group"] + k
    january = int(month_index(np.array([day(f"{ARCHIVE_YEAR}-01-01")]))[0])
    cancel["flux"] = (january + rng.integers(0, 3, k)).astype(np.int32)
    return _concat(lines, [dup, cancel])


def _random_person_days(ctx, rng, pop: Population, k: int) -> tuple[np.ndarray, np.ndarray]:
    candidates = np.flatnonzero(~pop.fictitious & (pop.death > ctx.start))
    person = candidates[rng.integers(0, len(candidates), k)].astype(np.int32)
    last = np.minimum(pop.death[person] - 1, ctx.end)
    date = ctx.start + (rng.random(k) * (last - ctx.start + 1)).astype(np.int32)
    return person, date


# -- décomptes, ER_PRS_F lines and flux keys ---------------------------------------------
def _nature(ctx: GenerationContext, lines) -> np.ndarray:
    slots = ctx.slots
    kind = lines["kind"]
    nature = np.zeros(len(kind), dtype=np.int32)
    table = {
        1: "nat_gp",
        2: "nat_specialist",
        3: "nat_visit",
        5: "nat_biology",
        6: "nat_imaging",
        7: "nat_tech_act",
        8: "nat_nurse",
        9: "nat_ucd",
        10: "nat_stay",
        11: "nat_surgery_act",
    }
    for k, slot in table.items():
        nature[kind == k] = slots[slot]
    pharmacy = kind == PHARMACY
    drug = ctx.box_arrays["drug"][lines["code"][pharmacy]]
    natures = np.array([slots[n] for n in ctx.boxes.drug_nature], dtype=np.int32)
    nature[pharmacy] = natures[drug]
    return nature


def _decomptes(ctx: GenerationContext, rng, pop: Population, lines, chunk: int) -> DcirFrame:
    lines["identity"] = pop.identity_on(lines["person"], lines["date"], rng)
    lines["nature"] = _nature(ctx, lines)
    composite = (
        lines["identity"].astype(np.int64) << 40
        | (lines["date"].astype(np.int64) - ctx.start + 2000) << 24
        | (lines["eta"].astype(np.int64) + 1) << 8
        | lines["kind"].astype(np.int64)
    )
    order = np.lexsort((lines["nature"], lines["group"], composite))
    lines = {k: v[order] for k, v in lines.items()}
    composite = composite[order]
    dct_start = group_starts(composite) | group_starts(lines["group"])
    aggregated = np.isin(lines["kind"], AGGREGATED_KINDS)
    prs_start = dct_start | group_starts(lines["nature"]) | ~aggregated
    dct = np.cumsum(dct_start) - 1
    prs = np.cumsum(prs_start) - 1
    n_dct = int(dct[-1]) + 1 if len(dct) else 0
    # flux lag per décompte
    lag = rng.choice(len(ctx.lag_probabilities), n_dct, p=ctx.lag_probabilities).astype(np.int64)
    first_line = np.flatnonzero(dct_start)
    lag += lines["lag_extra"][first_line]
    care_month = month_index(lines["date"][first_line])
    forced = lines["flux"][first_line]
    lag = np.where(forced >= 0, forced - care_month, lag)
    flx_dis = month_start(care_month + lag).astype(np.int32)
    flx_trt = np.maximum(flx_dis - rng.integers(1, 21, n_dct), lines["date"][first_line]).astype(
        np.int32
    )
    return DcirFrame(
        lines=lines,
        dct=dct,
        prs=prs,
        prs_start=prs_start,
        n_dct=n_dct,
        flx_dis=flx_dis,
        flx_trt=flx_trt,
        chunk=chunk,
    )
