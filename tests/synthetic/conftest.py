"""Synthetic datasets generated once per session, with DuckDB views over every table.

The store is the real reference snapshot when ``../shared/data`` exists, else the built-in
sample: the generator must produce schema-valid data from either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from sndskit.catalog import Catalog, get_catalog
from sndskit.config import store_path
from sndskit.synthetic import build_config, generate
from tests.conftest import SCHEMA_ROOT

KEYS = (
    "FLX_DIS_DTD, FLX_TRT_DTD, FLX_EMT_TYP, FLX_EMT_NUM, FLX_EMT_ORD, ORG_CLE_NUM, "
    "DCT_ORD_NUM, PRS_ORD_NUM, REM_TYP_AFF"
)

KEY_NAMES = [k.strip() for k in KEYS.split(",")]


def on_keys(a: str, b: str) -> str:
    """``a.k = b.k AND …`` over the 9 DCIR flux keys."""
    return " AND ".join(f"{a}.{k} = {b}.{k}" for k in KEY_NAMES)


@dataclass
class Dataset:
    dir: Path
    store: Path
    catalog: Catalog
    manifest: dict
    con: duckdb.DuckDBPyConnection

    @property
    def tables(self) -> list[str]:
        return sorted(p.name for p in self.dir.iterdir() if p.is_dir() and p.name != "truth")

    def q(self, sql: str, params=None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def one(self, sql: str, params=None):
        return self.con.execute(sql, params or []).fetchone()[0]

    @property
    def real_store(self) -> bool:
        return not self.catalog.is_sample


def open_dataset(out: Path, store: Path) -> Dataset:
    con = duckdb.connect()
    for table in sorted(p for p in out.iterdir() if p.is_dir() and p.name != "truth"):
        con.execute(f"CREATE VIEW {table.name} AS SELECT * FROM read_parquet('{table}/*.parquet')")
    for truth in sorted(p for p in (out / "truth").iterdir() if p.is_dir()):
        con.execute(
            f"CREATE VIEW truth_{truth.name} AS SELECT * FROM read_parquet('{truth}/*.parquet')"
        )
    manifest = json.loads((out / "truth" / "manifest.json").read_text(encoding="utf-8"))
    return Dataset(out, store, get_catalog(store), manifest, con)


@pytest.fixture(scope="session")
def synth_home(request) -> Path:
    """The real store when the reference data is present, else the built-in sample."""
    name = "real_home" if SCHEMA_ROOT.is_dir() else "sample_home"
    return request.getfixturevalue(name)


def _generate(tmp_path_factory, home: Path, name: str, **values) -> Dataset:
    out = tmp_path_factory.mktemp(name) / "data"
    store = store_path(home)
    generate(build_config(values), out, store=store, workers=1)
    return open_dataset(out, store)


@pytest.fixture(scope="session")
def recent(tmp_path_factory, synth_home) -> Dataset:
    """Default trap rates, 2016-2019: covers the last years of the double transmission."""
    return _generate(
        tmp_path_factory,
        synth_home,
        "recent",
        patients=2000,
        start_year=2016,
        end_year=2019,
        seed=11,
        chunk_size=1000,
        part_size=1000,
    )


@pytest.fixture(scope="session")
def older(tmp_path_factory, synth_home) -> Dataset:
    """2006-2008: CIP7-only drug lines and DCIR archive tables (flux before 2013)."""
    return _generate(
        tmp_path_factory,
        synth_home,
        "older",
        patients=500,
        start_year=2006,
        end_year=2008,
        seed=5,
        chunk_size=500,
        part_size=500,
    )


HIGH_RATES = {
    "regularisation": 0.1,
    "cancelled_dispensing": 0.05,
    "information_line": 0.1,
    "ete_ind_taa": 0.5,
    "flat_fee": 0.3,
    "majoration": 0.2,
    "franchise": 0.2,
    "late_flux": 0.05,
    "missing_date": 0.05,
    "fictitious_nir": 0.02,
    "twins": 0.1,
    "multiple_nir": 0.1,
    "unknown_nir_ano": 0.05,
    "ald_not_ald": 0.02,
    "error_ghm": 0.05,
    "ret_code": 0.05,
    "invalid_nir_ano": 0.05,
    "sej_typ_b": 0.05,
    "ret_null": 0.05,
    "ald_other_exonerating": 0.3,
    "ald_non_exonerating": 0.3,
    "ald_end_null": 0.5,
    "death_not_in_ir_ben_r": 0.2,
    "death_only_in_pmsi": 0.4,
}


@pytest.fixture(scope="session")
def high_rates(tmp_path_factory, synth_home) -> Dataset:
    """Raised trap rates (enough trap rows to measure each rate), training mode for FINESS."""
    return _generate(
        tmp_path_factory,
        synth_home,
        "rates",
        patients=1500,
        start_year=2019,
        end_year=2021,
        seed=3,
        chunk_size=500,
        part_size=1500,
        traps=HIGH_RATES,
        finess_duplicates_all_years=True,
    )


@pytest.fixture(scope="session")
def sample_dataset(tmp_path_factory, sample_home) -> Dataset:
    """Generated from the built-in sample store (reduced schemas, no drug vocabularies)."""
    return _generate(
        tmp_path_factory,
        sample_home,
        "sample",
        patients=300,
        start_year=2020,
        end_year=2021,
        seed=2,
        chunk_size=300,
        part_size=300,
    )


@pytest.fixture(scope="session")
def archive_era(tmp_path_factory, synth_home) -> Dataset:
    """2011-2014 around the 2013 DCIR generations, NABM codes typed integer, many twins."""
    return _generate(
        tmp_path_factory,
        synth_home,
        "archive",
        patients=1500,
        start_year=2011,
        end_year=2014,
        seed=9,
        chunk_size=500,
        part_size=1500,
        nabm_as_integer=True,
        traps={"twins": 0.2, "archive_cancellation": 0.05},
    )


@pytest.fixture(scope="session")
def yearly(tmp_path_factory, synth_home) -> Dataset:
    """The HDH project extract layout: one DCIR table per flux year."""
    return _generate(
        tmp_path_factory,
        synth_home,
        "yearly",
        patients=300,
        start_year=2019,
        end_year=2020,
        seed=4,
        chunk_size=300,
        part_size=300,
        dcir_yearly_tables=True,
    )
