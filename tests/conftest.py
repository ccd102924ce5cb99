"""Shared fixtures: stores built once per session from the real snapshot and the sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from sndskit.catalog import Catalog, get_catalog
from sndskit.config import builtin_sample_dir, store_path
from sndskit.refdata.importer import import_reference_data

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SCHEMA_ROOT = SHARED_DATA / "schema-snds" / "schemas"
NOMENCLATURE_ROOT = SHARED_DATA / "schema-snds" / "nomenclatures"


def pytest_collection_modifyitems(config, items):
    if SCHEMA_ROOT.is_dir():
        return
    skip = pytest.mark.skip(reason=f"reference data not found at {SHARED_DATA}")
    for item in items:
        if "shared_data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """No test reads or writes the user's ~/.sndskit."""
    monkeypatch.setenv("SNDSKIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SNDSKIT_REFERENCE_DATA", raising=False)


@pytest.fixture(scope="session")
def real_home(tmp_path_factory) -> Path:
    if not SCHEMA_ROOT.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    home = tmp_path_factory.mktemp("real-home")
    import_reference_data(SHARED_DATA, home=home)
    return home


@pytest.fixture(scope="session")
def real_catalog(real_home) -> Catalog:
    return get_catalog(store_path(real_home))


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("sample-home")
    import_reference_data(builtin_sample_dir(), home=home)
    return home


@pytest.fixture(scope="session")
def sample_catalog(sample_home) -> Catalog:
    return get_catalog(store_path(sample_home))


@pytest.fixture(scope="session", autouse=False)
def spark_session():
    """One local Spark session for the whole run (tests marked ``spark``)."""
    pytest.importorskip("pyspark")
    from sndskit.engines.spark_engine import spark_session as build

    session = build("local[2]")
    yield session
    session.stop()


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request) -> str:
    """The engine a test runs on: every SQL test runs on DuckDB and (marked ``spark``) Spark,
    which shares the one session of :func:`spark_session`."""
    if request.param == "spark":
        request.getfixturevalue("spark_session")
    return request.param
