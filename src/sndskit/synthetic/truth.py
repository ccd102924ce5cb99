"""Ground truth written beside the data (``DIR/truth/<name>/part-*.parquet``).

Every truth table names persons by ``BEN_IDT_ANO`` and data rows by stable keys: the 9
flux keys (+ detail order) for DCIR, ``ETA_NUM, RSA_NUM`` for PMSI, ``BEN_NIR_PSA,
BEN_RNG_GEM`` for beneficiaries, so a test or a trainer can find each row in the data.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sndskit.synthetic.arrays import MISSING_DATE, NO_DATE, take_strings
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.population import CDI_CODES, Population
from sndskit.synthetic.referentials import archived_identities

KEYS_DCIR = [
    ("FLX_DIS_DTD", pa.date32()),
    ("FLX_TRT_DTD", pa.date32()),
    ("FLX_EMT_TYP", pa.int64()),
    ("FLX_EMT_NUM", pa.int64()),
    ("FLX_EMT_ORD", pa.int64()),
    ("ORG_CLE_NUM", pa.string()),
    ("DCT_ORD_NUM", pa.int64()),
    ("PRS_ORD_NUM", pa.int64()),
    ("REM_TYP_AFF", pa.int64()),
]

SCHEMAS: dict[str, pa.Schema] = {
    "persons": pa.schema(
        [
            ("BEN_IDT_ANO", pa.string()),
            ("sex", pa.int8()),
            ("birth_date", pa.date32()),
            ("death_date", pa.date32()),
            ("death_cause", pa.string()),
            ("death_from", pa.string()),
            ("died_in_hospital", pa.bool_()),
            ("department", pa.string()),
            ("region", pa.string()),
            ("c2s", pa.bool_()),
            ("fictitious", pa.bool_()),
            ("twin_of", pa.string()),
            ("identities", pa.int8()),
        ]
    ),
    "identities": pa.schema(
        [
            ("BEN_IDT_ANO", pa.string()),
            ("BEN_NIR_PSA", pa.string()),
            ("BEN_RNG_GEM", pa.int64()),
            ("BEN_CDI_NIR", pa.string()),
            ("kind", pa.string()),
            ("valid_from", pa.date32()),
            ("valid_to", pa.date32()),
        ]
    ),
    "conditions": pa.schema(
        [
            ("BEN_IDT_ANO", pa.string()),
            ("condition", pa.string()),
            ("onset_date", pa.date32()),
            ("end_date", pa.date32()),
            ("prevalent_at_start", pa.bool_()),
            ("icd10", pa.string()),
            ("ald_number", pa.int16()),
            ("ald_start", pa.date32()),
            ("treated", pa.bool_()),
        ]
    ),
    "exposures": pa.schema(
        [
            ("BEN_IDT_ANO", pa.string()),
            ("condition", pa.string()),
            ("drug", pa.string()),
            ("atc", pa.string()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
            ("code", pa.string()),
            ("dispensings_in_period", pa.int32()),
        ]
    ),
    "dispensings": pa.schema(
        [
            ("BEN_IDT_ANO", pa.string()),
            ("BEN_NIR_PSA", pa.string()),
            ("BEN_RNG_GEM", pa.int64()),
            ("date", pa.date32()),
            ("condition", pa.string()),
            ("drug", pa.string()),
            ("atc", pa.string()),
            ("code", pa.string()),
            ("quantity", pa.int64()),
            ("units_per_box", pa.int64()),
            ("units_per_day", pa.float64()),
            ("days_supply", pa.float64()),
            ("table_name", pa.string()),
            *KEYS_DCIR,
            ("detail_ord", pa.int64()),
        ]
    ),
    "stays": pa.schema(
        [
            ("BEN_IDT_ANO", pa.string()),
            ("condition", pa.string()),
            ("kind", pa.string()),
            ("table_name", pa.string()),
            ("ETA_NUM", pa.string()),
            ("RSA_NUM", pa.string()),
            ("admission_date", pa.date32()),
            ("discharge_date", pa.date32()),
            ("DGN_PAL", pa.string()),
            ("sector", pa.string()),
            ("died", pa.bool_()),
        ]
    ),
    "traps_dcir": pa.schema(
        [
            ("trap", pa.string()),
            ("role", pa.string()),
            ("table_name", pa.string()),
            *KEYS_DCIR,
            ("detail_ord", pa.int64()),
            ("column_name", pa.string()),
            ("BEN_IDT_ANO", pa.string()),
        ]
    ),
    "traps_pmsi": pa.schema(
        [
            ("trap", pa.string()),
            ("table_name", pa.string()),
            ("ETA_NUM", pa.string()),
            ("RSA_NUM", pa.string()),
            ("column_name", pa.string()),
            ("original_ETA_NUM", pa.string()),
            ("original_RSA_NUM", pa.string()),
            ("BEN_IDT_ANO", pa.string()),
        ]
    ),
    "traps_persons": pa.schema(
        [
            ("trap", pa.string()),
            ("BEN_NIR_PSA", pa.string()),
            ("BEN_RNG_GEM", pa.int64()),
            ("BEN_IDT_ANO", pa.string()),
            ("detail", pa.string()),
        ]
    ),
    "ald": pa.schema(
        [
            ("BEN_IDT_ANO", pa.string()),
            ("BEN_NIR_PSA", pa.string()),
            ("BEN_RNG_GEM", pa.int64()),
            ("condition", pa.string()),
            ("MED_MTF_COD", pa.string()),
            ("IMB_ALD_NUM", pa.int64()),
            ("IMB_ETM_NAT", pa.int64()),
            ("exonerating", pa.bool_()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
            ("end_coding", pa.string()),
            ("trap", pa.string()),
        ]
    ),
    "ald_in_force": pa.schema(
        [
            ("BEN_IDT_ANO", pa.string()),
            ("condition", pa.string()),
            ("year", pa.int32()),
            ("MED_MTF_COD", pa.string()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
        ]
    ),
    "deaths": pa.schema(
        [
            ("BEN_IDT_ANO", pa.string()),
            ("death_date", pa.date32()),
            ("in_ir_ben_r", pa.bool_()),
            ("in_pmsi", pa.bool_()),
            ("in_ki_cci_r", pa.bool_()),
            ("sources", pa.string()),
            ("trap", pa.string()),
        ]
    ),
    "biology": pa.schema(
        [
            ("BEN_IDT_ANO", pa.string()),
            ("BEN_NIR_PSA", pa.string()),
            ("BEN_RNG_GEM", pa.int64()),
            ("date", pa.date32()),
            ("condition", pa.string()),
            ("code", pa.string()),
            ("quantity", pa.int64()),
            ("table_name", pa.string()),
            *KEYS_DCIR,
            ("detail_ord", pa.int64()),
        ]
    ),
    "procedures": pa.schema(
        [
            ("BEN_IDT_ANO", pa.string()),
            ("date", pa.date32()),
            ("code", pa.string()),
            ("condition", pa.string()),
            ("sources", pa.string()),
            ("pmsi_table", pa.string()),
            ("ETA_NUM", pa.string()),
            ("RSA_NUM", pa.string()),
            ("ENT_DAT_DEL", pa.int64()),
            ("table_name", pa.string()),
            *KEYS_DCIR,
            ("detail_ord", pa.int64()),
        ]
    ),
    "consultations": pa.schema(
        [
            ("BEN_IDT_ANO", pa.string()),
            ("date", pa.date32()),
            ("condition", pa.string()),
            ("kind", pa.string()),
            ("PRS_NAT_REF", pa.int64()),
            ("PSE_SPE_COD", pa.int64()),
            ("table_name", pa.string()),
            *KEYS_DCIR,
        ]
    ),
    "rehabilitation_stays": pa.schema(
        [
            ("BEN_IDT_ANO", pa.string()),
            ("condition", pa.string()),
            ("table_name", pa.string()),
            ("ETA_NUM", pa.string()),
            ("RHA_NUM", pa.string()),
            ("admission_date", pa.date32()),
            ("discharge_date", pa.date32()),
            ("MOR_PRP", pa.string()),
            ("ETL_AFF", pa.string()),
            ("after_ETA_NUM", pa.string()),
            ("after_RSA_NUM", pa.string()),
        ]
    ),
    "outpatient_care": pa.schema(
        [
            ("BEN_IDT_ANO", pa.string()),
            ("date", pa.date32()),
            ("kind", pa.string()),
            ("code", pa.string()),
            ("specialty", pa.int64()),
            ("sources", pa.string()),
            ("pmsi_table", pa.string()),
            ("ETA_NUM", pa.string()),
            ("SEQ_NUM", pa.string()),
            ("dcir_table", pa.string()),
            *KEYS_DCIR,
        ]
    ),
    "hospital_drugs": pa.schema(
        [
            ("BEN_IDT_ANO", pa.string()),
            ("date", pa.date32()),
            ("condition", pa.string()),
            ("code", pa.string()),
            ("quantity", pa.int64()),
            ("sector", pa.string()),
            ("sources", pa.string()),
            ("pmsi_table", pa.string()),
            ("ETA_NUM", pa.string()),
            ("RSA_NUM", pa.string()),
        ]
    ),
    "traps_ald": pa.schema(
        [
            ("trap", pa.string()),
            ("BEN_NIR_PSA", pa.string()),
            ("BEN_RNG_GEM", pa.int64()),
            ("IMB_ALD_DTD", pa.date32()),
            ("IMB_ETM_NAT", pa.int64()),
            ("MED_MTF_COD", pa.string()),
            ("BEN_IDT_ANO", pa.string()),
        ]
    ),
}

STAY_KINDS = ("background", "index", "follow_up", "event", "session")
IDENTITY_KINDS = ("main", "second_parent", "provisional", "definitive")


def table(name: str, columns: dict[str, object], n: int) -> pa.Table:
    schema = SCHEMAS[name]
    arrays = []
    for field in schema:
        value = columns.get(field.name)
        arrays.append(_arrow(value, field.type, n))
    return pa.Table.from_arrays(arrays, schema=schema)


def _arrow(value, typ: pa.DataType, n: int) -> pa.Array:
    if value is None:
        return pa.nulls(n, typ)
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if isinstance(value, pa.Array):
        return value if value.type == typ else value.cast(typ)
    if isinstance(value, tuple):
        values, mask = value
        return _arrow_np(np.asarray(values), typ, np.asarray(mask))
    return _arrow_np(np.asarray(value), typ, None)


def _arrow_np(values: np.ndarray, typ: pa.DataType, mask) -> pa.Array:
    if pa.types.is_date32(typ):
        return pa.array(values.astype(np.int32), type=pa.int32(), mask=mask).cast(pa.date32())
    if pa.types.is_string(typ):
        return pa.array(values.astype(object), type=pa.string(), mask=mask)
    return pa.array(values, mask=mask).cast(typ)


def module_names(ctx: GenerationContext) -> np.ndarray:
    return np.array(["background"] + [m.id for m in ctx.modules], dtype=object)


def persons_table(ctx: GenerationContext, pop: Population, idt: pa.Array) -> pa.Table:
    n = pop.n
    alive = pop.death >= NO_DATE
    twin = pop.twin_of
    counts = np.bincount(pop.id_person, minlength=n)
    return table(
        "persons",
        {
            "BEN_IDT_ANO": idt,
            "sex": pop.sex,
            "birth_date": pop.birth,
            "death_date": (np.where(alive, 0, pop.death), alive),
            "death_cause": take_strings(ctx.icd, np.where(alive, -1, pop.death_cause)),
            "death_from": (module_names(ctx)[pop.death_module], alive),
            "died_in_hospital": pop.died_in_hospital,
            "department": take_strings(ctx.population.departments, pop.department),
            "region": pa.array(ctx.population.regions, type=pa.string()).take(
                pa.array(pop.department.astype(np.int32))
            ),
            "c2s": pop.c2s,
            "fictitious": pop.fictitious,
            "twin_of": idt.take(pa.array(np.maximum(twin, 0).astype(np.int64), mask=twin < 0)),
            "identities": counts.astype(np.int8),
        },
        n,
    )


def identities_table(
    ctx: GenerationContext, pop: Population, psa: pa.Array, idt: pa.Array
) -> pa.Table:
    person = pop.id_person
    n = len(person)
    kind = pop.id_kind
    switch = pop.switch_day[person]
    valid_from = np.where(kind == 3, switch, 0)
    valid_to = np.where(kind == 2, switch - 1, 0)
    return table(
        "identities",
        {
            "BEN_IDT_ANO": idt.take(pa.array(person.astype(np.int64))),
            "BEN_NIR_PSA": psa,
            "BEN_RNG_GEM": pop.id_rng.astype(np.int64),
            "BEN_CDI_NIR": take_strings(CDI_CODES, pop.id_cdi),
            "kind": np.array(IDENTITY_KINDS, dtype=object)[kind],
            "valid_from": (valid_from, kind != 3),
            "valid_to": (valid_to, kind != 2),
        },
        n,
    )


def person_traps_table(
    ctx: GenerationContext, pop: Population, psa: pa.Array, idt: pa.Array
) -> pa.Table:
    ident = np.arange(len(pop.id_person))
    person = pop.id_person
    archived = (
        archived_identities(pop) if ctx.config.writes_ben_archive else np.zeros(len(ident), bool)
    )
    parts = []
    for trap, mask, detail in (
        ("archive_only", archived, "in IR_BEN_R_ARC only: no care since 2013"),
        ("twin", pop.twin_of[person] >= 0, "same BEN_NIR_PSA as the twin, BEN_RNG_GEM differs"),
        ("multiple_nir", pop.multi[person] > 0, "one of several BEN_NIR_PSA of the person"),
        ("fictitious_nir", pop.fictitious[person], "fictitious BEN_CDI_NIR: not a real person"),
        (
            "unknown_nir_ano",
            pop.unknown_nir_ano[person],
            "BEN_NIR_ANO unknown: BEN_IDT_ANO = BEN_NIR_PSA || BEN_RNG_GEM",
        ),
    ):
        sel = ident[mask]
        parts.append((trap, sel, detail))
    rows = np.concatenate([p[1] for p in parts])
    names = np.concatenate([np.full(len(p[1]), p[0], dtype=object) for p in parts])
    details = np.concatenate([np.full(len(p[1]), p[2], dtype=object) for p in parts])
    take = pa.array(rows.astype(np.int64))
    return table(
        "traps_persons",
        {
            "trap": names,
            "BEN_NIR_PSA": psa.take(take),
            "BEN_RNG_GEM": pop.id_rng[rows].astype(np.int64),
            "BEN_IDT_ANO": idt.take(pa.array(person[rows].astype(np.int64))),
            "detail": details,
        },
        len(rows),
    )


def _date_or_null(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    null = (values >= NO_DATE) | (values == MISSING_DATE)
    return np.where(null, 0, values), null
