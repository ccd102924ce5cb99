"""Same persons on DuckDB and Spark for the catalogue's algorithms."""

from __future__ import annotations

import pytest

from sndskit.algorithms import get_algorithm, run_algorithm
from sndskit.engines.datasource import DataFolder

pytestmark = [pytest.mark.spark, pytest.mark.shared_data]


@pytest.mark.parametrize("algorithm_id", ["t2d_treated", "heart_failure", "stroke_hospitalised"])
def test_duckdb_and_spark_give_the_same_persons(synthetic, tmp_path, spark_session, algorithm_id):
    algorithm = get_algorithm(algorithm_id)
    runs = {
        engine: run_algorithm(
            algorithm,
            DataFolder(synthetic),
            tmp_path / engine,
            engine=engine,
            threshold=1,
            unsafe_threshold=True,
        )
        for engine in ("duckdb", "spark")
    }
    assert runs["duckdb"].persons, "the synthetic data must contain cases"
    assert runs["spark"].persons == runs["duckdb"].persons
