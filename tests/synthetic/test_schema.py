"""Every generated table conforms to the catalogue: names, order, types, enums, lengths and
nomenclature membership of coded columns (checked against the store's reference tables)."""

from __future__ import annotations

import functools

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sndskit.catalog import resolve_table_name
from sndskit.store import NOMENCLATURE_SCHEMA

# The documented type mapping (docs/synthetic.md), written here independently of the code.
EXPECTED_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("ms"),
    "year": pa.int32(),
    "yearmonth": pa.string(),
}

# IR_DTE_V is only a calendar, not a list of codes (SNDS primer §1).
NOT_CODE_LISTS = {"IR_DTE_V"}
# The schema gives BEN_IDT_ANO 17 characters in IR_BEN_R but 18 in KI_CCI_R: when
# BEN_NIR_ANO is unknown it is BEN_NIR_PSA (17) || BEN_RNG_GEM (1) = 18 characters.
LENGTH_EXCEPTIONS = {("IR_BEN_R", "BEN_IDT_ANO")}


# IR_BEN_R_ARC (beneficiaries without care since 2013) has IR_BEN_R's layout; the
# schema repository describes IR_BEN_R only
ARCHIVE_OF = {"IR_BEN_R_ARC": "IR_BEN_R"}


def _template(name: str) -> str:
    return resolve_table_name(ARCHIVE_OF.get(name, name)).template


def _table(ds, name: str):
    return ds.catalog.get_table(ARCHIVE_OF.get(name, name))


@pytest.mark.parametrize("dataset_name", ["recent", "older", "sample_dataset"])
def test_columns_and_types_are_the_catalogue_s(dataset_name, request):
    ds = request.getfixturevalue(dataset_name)
    assert ds.tables, "no table generated"
    for name in ds.tables:
        info = _table(ds, name)
        expected = [(f.name, EXPECTED_TYPES[f.storage_type]) for f in info.fields]
        for path in sorted((ds.dir / name).glob("*.parquet")):
            schema = pq.read_schema(path)
            assert [(f.name, f.type) for f in schema] == expected, f"{name}: {path.name}"


def test_every_table_of_the_issue_is_generated_per_year(recent):
    expected = {
        "IR_BEN_R",
        "IR_IMB_R",
        "KI_CCI_R",
        "ER_PRS_F",
        "ER_PHA_F",
        "ER_CAM_F",
        "ER_BIO_F",
        "ER_ETE_F",
        "ER_UCD_F",
    }
    drugs = ("MED", "FH") if recent.real_store else ()  # tables the catalogue describes
    ssr = ("B", "C", "D") if recent.real_store else ()
    for year in range(16, 20):
        expected |= {f"T_MCO{year}{s}" for s in ("B", "C", "D", "A", "UM", *drugs)}
        expected |= {f"T_SSR{year}{s}" for s in ssr}
        expected |= {f"T_MCO{year}{s}STC" for s in ("C", "FB", "FM", "FL") if ssr}
    assert set(recent.tables) == expected
    rare = {"ER_UCD_F"} | {t for t in expected if t.endswith(("MED", "FH")) or "SSR" in t}
    for name in expected - rare:  # hospital drugs are rare at this size
        assert recent.one(f"SELECT count(*) FROM {name}") > 0, name


def test_old_flux_goes_to_the_dcir_archive_tables(older):
    # flux years before 2013 live in ER_PRS_F_AAAA, ER_PHA_F_AAAA … (SNDS primer §1)
    assert {"ER_PRS_F_2006", "ER_PRS_F_2007", "ER_PHA_F_2008", "ER_PRS_F_2009"} <= set(older.tables)
    for year in (2006, 2007, 2008):
        assert older.one(f"SELECT count(*) FROM ER_PRS_F_{year}") > 0
        assert (
            older.one(f"SELECT count(*) FROM ER_PRS_F_{year} WHERE year(FLX_DIS_DTD) <> {year}")
            == 0
        )
    assert older.one("SELECT count(*) FROM ER_PRS_F") == 0  # nothing after 2012 in flux


@pytest.mark.parametrize("dataset_name", ["recent", "older"])
def test_enumerated_columns_hold_allowed_values(dataset_name, request):
    ds = request.getfixturevalue(dataset_name)
    for name in ds.tables:
        for field in _table(ds, name).fields:
            if not field.enum:
                continue
            allowed = set(field.enum) | ({""} if field.allows_empty else set())
            values = {
                r[0]
                for r in ds.q(f'SELECT DISTINCT "{field.name}" FROM {name}')
                if r[0] is not None
            }
            assert values <= allowed, f"{name}.{field.name}: {values - allowed}"


@pytest.mark.parametrize("dataset_name", ["recent", "older", "sample_dataset"])
def test_string_lengths_fit_the_catalogue(dataset_name, request):
    ds = request.getfixturevalue(dataset_name)
    for name in ds.tables:
        template = _template(name)
        for field in _table(ds, name).fields:
            if field.storage_type != "string" or not field.length.isdigit():
                continue
            if (template, field.name) in LENGTH_EXCEPTIONS:
                continue
            longest = ds.one(f'SELECT max(length("{field.name}")) FROM {name}')
            assert longest is None or longest <= int(field.length), (
                f"{name}.{field.name}: {longest}"
            )


def _code_values(ds, name: str, column: str) -> set[str]:
    rows = ds.q(
        f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM {name} WHERE "{column}" IS NOT NULL'
    )
    return {r[0] for r in rows}


def _normalise(code: str) -> str:
    code = code.strip()
    return code.lstrip("0") or "0" if code.isdigit() else code


def _nomenclature_codes(ds, nomenclature: str, column: str | None) -> set[str] | None:
    info = ds.catalog.nomenclatures.get(nomenclature)
    if info is None or info.rows is None or nomenclature in NOT_CODE_LISTS:
        return None
    column = column or info.code_column or (info.primary_key[0] if info.primary_key else None)
    if column is None:
        return None
    return _load_codes(str(ds.store), info.name, column)


@functools.cache
def _load_codes(store: str, nomenclature: str, column: str) -> frozenset[str]:
    con = duckdb.connect(store, read_only=True)
    try:
        rows = con.execute(
            f'SELECT DISTINCT "{column}" FROM {NOMENCLATURE_SCHEMA}."{nomenclature}"'
        ).fetchall()
    finally:
        con.close()
    return frozenset(_normalise(str(r[0])) for r in rows if r[0] is not None)


@pytest.mark.parametrize("dataset_name", ["recent", "older", "sample_dataset"])
def test_coded_columns_hold_codes_of_their_nomenclature(dataset_name, request):
    ds = request.getfixturevalue(dataset_name)
    outside = {
        c
        for codes in ds.manifest["codes"]["codes_not_in_store_nomenclature"].values()
        for c in codes
    }
    if ds.real_store:
        assert outside == set(), "every code must be in the real nomenclatures"
    checked = 0
    for name in ds.tables:
        if ds.one(f"SELECT count(*) FROM {name}") == 0:
            continue
        for field in _table(ds, name).fields:
            if not field.nomenclature:
                continue
            known = _nomenclature_codes(ds, field.nomenclature, field.nomenclature_column)
            if known is None:
                continue
            values = {_normalise(v) for v in _code_values(ds, name, field.name)}
            missing = {v for v in values - known if v not in outside}
            assert not missing, (
                f"{name}.{field.name} ({field.nomenclature}): {sorted(missing)[:10]}"
            )
            checked += bool(values)
    assert checked >= (10 if ds.real_store else 3)


def test_drug_codes_are_real_boxes_of_the_store(recent):
    cip13 = _code_values(recent, "ER_PHA_F", "PHA_PRS_C13")
    cip7 = _code_values(recent, "ER_PHA_F", "PHA_PRS_IDE")
    assert cip13 and all(len(c) == 13 and c.startswith("3400") for c in cip13)
    assert cip7 and all(len(c) == 7 for c in cip7)
    con = duckdb.connect(str(recent.store), read_only=True)
    try:
        known13 = {
            r[0]
            for r in con.execute("SELECT code FROM concepts WHERE vocabulary = 'CIP13'").fetchall()
        }
        same_box = set(
            con.execute(
                "SELECT code_1, code_2 FROM relations WHERE relation = 'CIP7_SAME_BOX_AS_CIP13'"
            ).fetchall()
        )
    finally:
        con.close()
    if recent.real_store:
        assert cip13 <= known13
        pairs = set(
            recent.q(
                "SELECT DISTINCT PHA_PRS_IDE, PHA_PRS_C13 FROM ER_PHA_F WHERE PHA_PRS_C13 IS NOT "
                "NULL"
            )
        )
        assert pairs <= same_box  # the CIP7 is the same box as the CIP13
    used = {c for d in recent.manifest["codes"]["drugs"].values() if d for c in d["cip13"]}
    assert cip13 <= used  # every code written is recorded in the manifest


def test_sample_store_falls_back_to_built_in_real_boxes(sample_dataset):
    drugs = sample_dataset.manifest["codes"]["drugs"]
    assert {d["resolved_by"] for d in drugs.values() if d} == {"fallback"}
    assert "built-in sample" in sample_dataset.manifest["reference_data"]["source"]
    assert sample_dataset.one("SELECT count(*) FROM ER_PHA_F") > 0
