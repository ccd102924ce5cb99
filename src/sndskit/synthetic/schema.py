"""Arrow schemas of the generated tables, taken from the catalogue.

Column names, order and types come from the catalogue (``FieldInfo.storage_type``), so
the output has exactly the real SNDS table layout. Type mapping (documented in
``docs/synthetic.md``):

| catalogue storage type | Arrow / Parquet | notes |
|---|---|---|
| string | string | identifiers typed as numbers (CIP13, UCD, FINESS, NABM) stay strings |
| integer | int64 | |
| number | float64 | |
| boolean | bool | |
| date | date32 | ``1600-01-01`` codes a missing date, as in SNDS |
| datetime | timestamp[ms] | Parquet has no second unit |
| year | int32 | e.g. ``BEN_NAI_ANN = 1956`` |
| yearmonth | string | ``'YYYYMM'`` |

Columns the generator does not model are present with their type and hold nulls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sndskit.catalog import Catalog, TableInfo
from sndskit.snds.facts import FLUX_KEYS

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("ms"),
    "year": pa.int32(),
    "yearmonth": pa.string(),
}

# Table templates the generator writes.
DCIR_TABLES = ("ER_PRS_F", "ER_PHA_F", "ER_BIO_F", "ER_CAM_F", "ER_ETE_F", "ER_UCD_F")
PMSI_TABLES = ("T_MCOaaB", "T_MCOaaC", "T_MCOaaD", "T_MCOaaA", "T_MCOaaUM")
REFERENTIAL_TABLES = ("IR_BEN_R", "IR_IMB_R", "KI_CCI_R")
# hospital drugs billed on top of the stay (public: MED, private clinics: FH), written
# when the store's catalogue describes them (the built-in sample does not)
PMSI_DRUG_TABLES = ("T_MCOaaMED", "T_MCOaaFH")
SSR_TABLES = ("T_SSRaaB", "T_SSRaaC", "T_SSRaaD")  # rehabilitation stays, same condition
# outpatient care of public hospitals (ACE): patients, consultations, CCAM acts, biology
ACE_TABLES = ("T_MCOaaCSTC", "T_MCOaaFBSTC", "T_MCOaaFMSTC", "T_MCOaaFLSTC")
OPTIONAL_PMSI_TABLES = PMSI_DRUG_TABLES + SSR_TABLES + ACE_TABLES
ALL_TEMPLATES = REFERENTIAL_TABLES + DCIR_TABLES + PMSI_TABLES

DCIR_KEYS = FLUX_KEYS  # the 9 keys joining DCIR details to ER_PRS_F (primer §3)


def arrow_type(storage_type: str) -> pa.DataType:
    try:
        return ARROW_TYPES[storage_type]
    except KeyError:
        raise ValueError(f"no Arrow type for catalogue storage type {storage_type!r}") from None


def arrow_schema(table: TableInfo) -> pa.Schema:
    return pa.schema([pa.field(f.name, arrow_type(f.storage_type)) for f in table.fields])


@dataclass(frozen=True)
class TableSchemas:
    """Arrow schema of each generated table template (picklable)."""

    schemas: dict[str, pa.Schema]

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> TableSchemas:
        schemas = {name: arrow_schema(catalog.get_table(name)) for name in ALL_TEMPLATES}
        described = {t.name for t in catalog.list_tables()}
        schemas.update(
            {t: arrow_schema(catalog.get_table(t)) for t in OPTIONAL_PMSI_TABLES if t in described}
        )
        return cls(schemas)

    def __contains__(self, template: str) -> bool:
        return template in self.schemas

    def __getitem__(self, template: str) -> pa.Schema:
        return self.schemas[template]

    def with_type(self, template: str, column: str, typ: pa.DataType) -> TableSchemas:
        """A copy where ``template.column`` has the Arrow type ``typ``."""
        schema = self.schemas[template]
        i = schema.get_field_index(column)
        changed = schema.set(i, pa.field(column, typ)) if i >= 0 else schema
        return TableSchemas({**self.schemas, template: changed})


def build_table(schema: pa.Schema, columns: dict[str, object], n: int) -> pa.Table:
    """A table of ``schema`` from the generated columns; absent columns are all null.

    Values may be numpy arrays (converted, day numbers for dates), Arrow arrays (cast) or
    scalars (repeated). Generated columns the schema does not have are ignored, so the
    same generator serves the full catalogue and the built-in sample.
    """
    arrays = []
    nulls: dict[pa.DataType, pa.Array] = {}  # one all-null array per type, shared
    for field in schema:
        value = columns.get(field.name)
        if value is None:
            if field.type not in nulls:
                nulls[field.type] = pa.nulls(n, field.type)
            arrays.append(nulls[field.type])
        else:
            arrays.append(_to_arrow(value, field.type, n))
    return pa.Table.from_arrays(arrays, schema=schema)


def _to_arrow(value: object, typ: pa.DataType, n: int) -> pa.Array:
    if value is None:
        return pa.nulls(n, typ)
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if isinstance(value, pa.Array):
        return value if value.type == typ else value.cast(typ)
    if isinstance(value, tuple) and len(value) == 2:  # (values, null mask)
        values, mask = value
        mask = np.asarray(mask, dtype=bool)
        if isinstance(values, pa.Array):
            arr = values if values.type == typ else values.cast(typ)
            return pc.if_else(pa.array(mask), pa.scalar(None, type=typ), arr)
        return numpy_to_arrow(np.asarray(values), typ, mask if mask.any() else None)
    if isinstance(value, np.ndarray):
        return numpy_to_arrow(value, typ, None)
    return constant(value, typ, n)


def constant(value: object, typ: pa.DataType, n: int) -> pa.Array:
    """``n`` copies of one value."""
    if pa.types.is_string(typ) or pa.types.is_boolean(typ):
        return pa.array([value], type=typ).take(pa.array(np.zeros(n, dtype=np.int32)))
    return numpy_to_arrow(np.full(n, value), typ, None)


_NUMPY = {
    pa.int64(): np.int64,
    pa.int32(): np.int32,
    pa.int16(): np.int16,
    pa.int8(): np.int8,
    pa.float64(): np.float64,
    pa.date32(): np.int32,
}


def numpy_to_arrow(values: np.ndarray, typ: pa.DataType, mask: np.ndarray | None) -> pa.Array:
    """Zero-copy where possible: fixed-width values with an optional null mask."""
    n = len(values)
    if pa.types.is_timestamp(typ):  # day numbers → milliseconds
        return _fixed(values.astype(np.int64) * 86_400_000, typ, mask)
    if typ in _NUMPY:
        return _fixed(np.ascontiguousarray(values, dtype=_NUMPY[typ]), typ, mask)
    if pa.types.is_boolean(typ):
        return pa.array(values.astype(bool, copy=False), type=typ, mask=mask)
    if pa.types.is_string(typ):
        return pa.array(values, type=pa.string(), mask=mask, size=n)
    return pa.array(values, mask=mask).cast(typ)


def _fixed(values: np.ndarray, typ: pa.DataType, mask: np.ndarray | None) -> pa.Array:
    data = pa.py_buffer(values)
    if mask is None:
        return pa.Array.from_buffers(typ, len(values), [None, data])
    validity = pa.py_buffer(np.packbits(~mask, bitorder="little"))
    return pa.Array.from_buffers(typ, len(values), [validity, data], null_count=int(mask.sum()))
