"""Truth tables built from a chunk's generated state (never from the written data).

Each builder turns the generator's own arrays (persons, conditions, episodes, stays, DCIR
lines with their keys) into a table of ``truth.SCHEMAS``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sndskit.synthetic import truth
from sndskit.synthetic.arrays import digits, take_strings, years_of
from sndskit.synthetic.events import GP, SPECIALIST, VISIT
from sndskit.synthetic.pmsi import TRAP_NAMES
from sndskit.synthetic.pmsi_tables import hospital_drug_stays, ret_column_names


def ids(idt: pa.Array, persons: np.ndarray) -> pa.Array:
    return idt.take(pa.array(persons.astype(np.int64)))


def conditions_table(ctx, c, ald_rows, merged, idt) -> pa.Table:
    n = len(c["person"])
    names = truth.module_names(ctx)
    ald_number = np.full(n, -1, dtype=np.int64)
    ald_start = np.zeros(n, dtype=np.int64)
    real = ald_rows["trap"] == 0
    for m in ctx.modules:
        sel = np.flatnonzero(real & (ald_rows["module"] == m.index))
        rows = c["index"][m.index][ald_rows["person"][sel]]
        ok = rows >= 0
        ald_number[rows[ok]] = ald_rows["number"][sel][ok]
        ald_start[rows[ok]] = ald_rows["start"][sel][ok]
    key = c["person"].astype(np.int64) * 64 + c["module"]
    treated_keys = np.unique(merged.person.astype(np.int64) * 64 + merged.module)
    treated = np.isin(key, treated_keys)
    end, end_null = truth._date_or_null(c["end"])
    return truth.table(
        "conditions",
        {
            "BEN_IDT_ANO": ids(idt, c["person"]),
            "condition": names[c["module"]],
            "onset_date": c["onset"],
            "end_date": (end, end_null),
            "prevalent_at_start": c["prevalent"],
            "icd10": take_strings(ctx.icd, c["code"]),
            "ald_number": (ald_number, ald_number < 0),
            "ald_start": (ald_start, ald_number < 0),
            "treated": treated,
        },
        n,
    )


def exposures_table(ctx, merged, episodes, lines, idt) -> pa.Table:
    names = truth.module_names(ctx)
    counts = np.bincount(lines["episode"][lines["episode"] >= 0], minlength=len(merged.person))
    n = len(merged.person)
    end, end_null = truth._date_or_null(merged.end)
    town = {
        "person": merged.person,
        "condition": names[merged.module],
        "drug": np.array(ctx.boxes.drug_ids, dtype=object)[merged.drug],
        "atc": np.array(ctx.boxes.drug_atc, dtype=object)[merged.drug],
        "start": merged.start,
        "end": end,
        "end_null": end_null,
        "code": np.array(ctx.boxes.cip13, dtype=object)[merged.box],
        "count": counts[:n].astype(np.int32),
    }
    hosp = episodes["drug"] < 0
    module = episodes["module"][hosp]
    hospital_ids = {
        m.index: m.definition.hospital_drug for m in ctx.modules if m.definition.hospital_drug
    }
    h = {
        "person": episodes["person"][hosp],
        "condition": names[module],
        "drug": np.array([hospital_ids[int(x)].id for x in module], dtype=object),
        "atc": np.array([hospital_ids[int(x)].atc[0] for x in module], dtype=object),
        "start": episodes["start"][hosp],
        "end": episodes["end"][hosp],
        "end_null": np.zeros(int(hosp.sum()), dtype=bool),
        "code": np.full(int(hosp.sum()), None, dtype=object),
        "count": np.zeros(int(hosp.sum()), dtype=np.int32),
    }
    allx = {k: np.concatenate([town[k], h[k]]) for k in town}
    return truth.table(
        "exposures",
        {
            "BEN_IDT_ANO": ids(idt, allx["person"]),
            "condition": allx["condition"],
            "drug": allx["drug"],
            "atc": allx["atc"],
            "start_date": allx["start"],
            "end_date": (allx["end"], allx["end_null"]),
            "code": (allx["code"], allx["code"] == None),  # noqa: E711
            "dispensings_in_period": allx["count"],
        },
        len(allx["person"]),
    )


def dispensings_table(ctx, d, pop, psa, idt) -> pa.Table:
    if not d or len(d["person"]) == 0:
        return truth.table("dispensings", {}, 0)
    n = len(d["person"])
    names = truth.module_names(ctx)
    is_ucd = d["is_ucd"]
    box = np.where(is_ucd, 0, d["code"])
    drug_of_box = ctx.box_arrays["drug"][box].astype(np.int32)
    drug_names = list(ctx.boxes.drug_ids)
    atcs = list(ctx.boxes.drug_atc)
    # hospital drugs get their own entries after the town drugs
    hospital = {
        m.index: m.definition.hospital_drug for m in ctx.modules if m.definition.hospital_drug
    }
    for mi, h in hospital.items():
        sel = is_ucd & (d["module"] == mi)
        drug_of_box[sel] = len(drug_names)
        drug_names.append(h.id)
        atcs.append(h.atc[0])
    n_box = len(ctx.boxes.cip13)
    code_index = np.where(is_ucd, n_box + d["code"], box)
    cols = {k: d[k] for k in truth.SCHEMAS["dispensings"].names if k in d}
    cols.update(
        {
            "BEN_IDT_ANO": ids(idt, d["person"]),
            "BEN_NIR_PSA": psa.take(pa.array(d["identity"].astype(np.int64))),
            "BEN_RNG_GEM": pop.id_rng[d["identity"]].astype(np.int64),
            "date": d["date"],
            "condition": take_strings(names, d["module"]),
            "drug": take_strings(drug_names, drug_of_box),
            "atc": take_strings(atcs, drug_of_box),
            "code": take_strings(list(ctx.boxes.cip13) + list(ctx.ucd), code_index),
            "quantity": d["qty"].astype(np.int64),
            # pack size (BDPM presentation) and days covered: null for hospital drugs
            "units_per_box": (np.array(ctx.boxes.units, dtype=np.int64)[box], is_ucd),
            "units_per_day": (
                np.array(ctx.boxes.drug_units_per_day, dtype=np.float64)[
                    ctx.box_arrays["drug"][box]
                ],
                is_ucd,
            ),
            "days_supply": (d["qty"] * ctx.box_arrays["supply"][box], is_ucd),
        }
    )
    return truth.table("dispensings", cols, n)


def stays_table(ctx, pmsi, idt) -> pa.Table:
    s = pmsi.stays
    true = s["trap"] == 0
    idx = np.flatnonzero(true)
    names = truth.module_names(ctx)
    discharge = s["admission"][idx] + s["los"][idx]
    year = years_of(discharge)
    return truth.table(
        "stays",
        {
            "BEN_IDT_ANO": ids(idt, s["person"][idx]),
            "condition": names[s["module"][idx]],
            "kind": np.array(truth.STAY_KINDS, dtype=object)[s["kind"][idx]],
            "table_name": np.array([f"T_MCO{y % 100:02d}B" for y in year], dtype=object),
            "ETA_NUM": take_strings(ctx.hospitals.finess, s["eta"][idx]),
            "RSA_NUM": digits(s["rsa"][idx], 10),
            "admission_date": s["admission"][idx],
            "discharge_date": discharge,
            "DGN_PAL": take_strings(ctx.icd, s["dp"][idx]),
            "sector": take_strings(
                ["private", "public"], ctx.hospitals.public[s["eta"][idx]].astype(np.int32)
            ),
            "died": s["died"][idx],
        },
        len(idx),
    )


def dcir_traps_table(t, idt) -> pa.Table:
    if not t:
        return truth.table("traps_dcir", {}, 0)
    cols = {k: v for k, v in t.items() if k not in ("person",)}
    cols["BEN_IDT_ANO"] = ids(idt, t["person"])
    cols["detail_ord"] = (t["detail_ord"], t["detail_ord"] < 0)
    return truth.table("traps_dcir", cols, len(t["person"]))


TWIN_STAY = "twin_shared_pseudonym"


def pmsi_traps_table(ctx, pmsi, pop, idt) -> pa.Table:
    """Trap stays, and the true stays of twins (their NIR_ANO_17 is their twin's too)."""
    s = pmsi.stays
    twin = (s["trap"] == 0) & (pop.twin_of[s["person"]] >= 0)
    idx = np.flatnonzero((s["trap"] > 0) | twin)
    year = years_of(s["admission"][idx] + s["los"][idx])
    column = np.full(len(idx), None, dtype=object)
    ret = s["ret"][idx]
    for i in np.flatnonzero(ret >= 0):
        column[i] = ret_column_names(year[i] >= 2013)[ret[i]]
    orig = s["of"][idx]  # position of the copied true stay (true stays come first)
    finess = ctx.hospitals.finess
    return truth.table(
        "traps_pmsi",
        {
            "trap": np.array([TRAP_NAMES.get(int(t), TWIN_STAY) for t in s["trap"][idx]]),
            "table_name": np.array([f"T_MCO{y % 100:02d}B" for y in year], dtype=object),
            "ETA_NUM": take_strings(finess, s["eta"][idx]),
            "RSA_NUM": digits(s["rsa"][idx], 10),
            "column_name": (column, column == None),  # noqa: E711
            "original_ETA_NUM": take_strings(
                finess, np.where(orig >= 0, s["eta"][np.maximum(orig, 0)], -1)
            ),
            "original_RSA_NUM": (
                np.array(digits(s["rsa"][np.maximum(orig, 0)], 10).to_pylist(), dtype=object),
                orig < 0,
            ),
            "BEN_IDT_ANO": ids(idt, s["person"][idx]),
        },
        len(idx),
    )


def biology_table(ctx, b, pop, psa, idt) -> pa.Table:
    """True biology acts (ER_BIO_F), NABM codes with their zero padding."""
    names = truth.module_names(ctx)
    cols = {k: b[k] for k in truth.SCHEMAS["biology"].names if k in b}
    cols.update(
        {
            "BEN_IDT_ANO": ids(idt, b["person"]),
            "BEN_NIR_PSA": psa.take(pa.array(b["identity"].astype(np.int64))),
            "BEN_RNG_GEM": pop.id_rng[b["identity"]].astype(np.int64),
            "condition": take_strings(names, b["module"]),
            "code": take_strings(ctx.nabm, b["code"]),
            "quantity": b["qty"].astype(np.int64),
        }
    )
    return truth.table("biology", cols, len(b["person"]))


def procedures_table(ctx, pmsi, dcir_acts, idt) -> pa.Table:
    """Every true CCAM act once, on its real date, with the sources that hold it.

    PMSI acts of true stays (date = stay entry + ENT_DAT_DEL); the private-clinic ones
    billed in DCIR too carry the keys of their ER_CAM_F row; town acts are DCIR only.
    """
    s, a = pmsi.stays, pmsi.acts
    names = truth.module_names(ctx)
    acts = np.flatnonzero(s["trap"][a["stay"]] == 0)
    stay = a["stay"][acts]
    billed = np.full(len(a["stay"]), -1, dtype=np.int64)  # act → DCIR row
    linked = np.flatnonzero(dcir_acts["act"] >= 0)
    billed[dcir_acts["act"][linked]] = linked
    dcir_row = billed[acts]
    town = np.flatnonzero(dcir_acts["act"] < 0)
    rows = np.concatenate([dcir_row, town])  # DCIR row of each truth row, -1
    n_pmsi, n = len(acts), len(acts) + len(town)
    in_dcir = rows >= 0
    safe = np.maximum(rows, 0)
    year = years_of(s["admission"][stay] + s["los"][stay])
    sources = np.where(in_dcir[:n_pmsi], "PMSI+DCIR", "PMSI").astype(object)
    person = np.concatenate([s["person"][stay], dcir_acts["person"][town]])
    cols: dict[str, object] = {
        k: (_values(dcir_acts[k], safe), ~in_dcir)
        for k in (*(name for name, _ in truth.KEYS_DCIR), "table_name", "detail_ord")
    }
    cols.update(
        {
            "BEN_IDT_ANO": ids(idt, person),
            "date": np.concatenate(
                [s["admission"][stay] + a["offset"][acts], dcir_acts["date"][town]]
            ),
            "code": take_strings(
                ctx.ccam, np.concatenate([a["code"][acts], dcir_acts["code"][town]])
            ),
            "condition": take_strings(
                names, np.concatenate([s["module"][stay], dcir_acts["module"][town]])
            ),
            "sources": np.concatenate([sources, np.full(len(town), "DCIR", dtype=object)]),
            "pmsi_table": _pad(np.array([f"T_MCO{y % 100:02d}A" for y in year], dtype=object), n),
            "ETA_NUM": _pad(take_strings(ctx.hospitals.finess, s["eta"][stay]), n),
            "RSA_NUM": _pad(digits(s["rsa"][stay], 10), n),
            "ENT_DAT_DEL": (
                np.concatenate([a["offset"][acts], np.zeros(len(town))]).astype(np.int64),
                np.arange(n) >= n_pmsi,
            ),
        }
    )
    return truth.table("procedures", cols, n)


def _values(column, rows: np.ndarray) -> np.ndarray:
    """``column[rows]`` as numpy (Arrow columns converted)."""
    if isinstance(column, pa.Array):
        column = np.array(column.to_pylist(), dtype=object)
    if len(column):
        return column[rows]
    return np.full(len(rows), "" if column.dtype == object else 0, dtype=column.dtype)


def _pad(values, n: int) -> pa.Array:
    """PMSI values of the first rows, null for the DCIR-only rows after them."""
    arr = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
    return pa.concat_arrays([arr.cast(pa.string()), pa.nulls(n - len(arr), pa.string())])


def hospital_drugs_table(ctx, pmsi, idt) -> pa.Table:
    """Every hospital drug given in a true session stay, once.

    Public hospitals: only in PMSI (``T_MCOaaMED``; their DCIR echo has
    ``ETE_IND_TAA = 1``); private clinics: ``T_MCOaaFH`` and the DCIR ``ER_UCD_F`` line.
    """
    s = pmsi.stays
    true = s["trap"] == 0
    public, private = hospital_drug_stays(ctx, s)
    public, private = public[true[public]], private[true[private]]
    idx = np.concatenate([public, private])
    in_public = np.arange(len(idx)) < len(public)
    described = {"T_MCOaaMED": "T_MCOaaMED" in ctx.schemas, "T_MCOaaFH": "T_MCOaaFH" in ctx.schemas}
    table = np.where(in_public, "T_MCOaaMED", "T_MCOaaFH")
    in_pmsi = np.array([described[t] for t in table], dtype=bool)
    year = years_of(s["admission"][idx])
    sources = np.where(in_public, "PMSI", "PMSI+DCIR").astype(object)
    sources[~in_pmsi] = np.where(in_public[~in_pmsi], "", "DCIR")
    names = truth.module_names(ctx)
    return truth.table(
        "hospital_drugs",
        {
            "BEN_IDT_ANO": ids(idt, s["person"][idx]),
            "date": s["admission"][idx],
            "condition": take_strings(names, s["module"][idx]),
            "code": take_strings(ctx.ucd, s["ucd"][idx]),
            "quantity": s["ucd_qty"][idx].astype(np.int64),
            "sector": np.where(in_public, "public", "private").astype(object),
            "sources": sources,
            "pmsi_table": (
                np.array(
                    [t.replace("aa", f"{y % 100:02d}") for t, y in zip(table, year, strict=True)],
                    dtype=object,
                ),
                ~in_pmsi,
            ),
            "ETA_NUM": take_strings(ctx.hospitals.finess, s["eta"][idx]),
            "RSA_NUM": digits(s["rsa"][idx], 10),
        },
        len(idx),
    )


def consultations_table(ctx, c, idt) -> pa.Table:
    """True consultations and visits: one ER_PRS_F base line each (no flat fee, majoration
    or information line), with the nature of service and the executing specialty."""
    kinds = {GP: "general practitioner", SPECIALIST: "specialist", VISIT: "home visit"}
    cols = {k: c[k] for k in truth.SCHEMAS["consultations"].names if k in c}
    cols.update(
        {
            "BEN_IDT_ANO": ids(idt, c["person"]),
            "condition": take_strings(truth.module_names(ctx), c["module"]),
            "kind": np.array([kinds[int(k)] for k in c["kind"]], dtype=object)
            if len(c["person"])
            else np.zeros(0, dtype=object),
            "PRS_NAT_REF": c["nature"].astype(np.int64),
            "PSE_SPE_COD": c["spe"].astype(np.int64),
        }
    )
    return truth.table("consultations", cols, len(c["person"]))
