"""Where SNDS-shaped data lives and how SQL runs on it (DuckDB by default, Spark at scale).

>>> ENGINES
('duckdb', 'spark')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sndskit.engines.contract import DIALECTS, ENGINES, Engine, PlanStep
from sndskit.errors import SndskitError

if TYPE_CHECKING:
    from sndskit.engines.datasource import DataFolder

__all__ = ["DIALECTS", "ENGINES", "Engine", "PlanStep", "open_engine"]


_IMPLEMENTATIONS = {  # name → "module:class", imported only when chosen
    "duckdb": "sndskit.engines.duckdb_engine:DuckDBEngine",
    "spark": "sndskit.engines.spark_engine:SparkEngine",
}


def open_engine(name: str, data: DataFolder, *, master: str | None = None, session=None) -> Engine:
    """The engine ``name`` over ``data`` (Spark: ``master`` URL or an existing session)."""
    if name not in _IMPLEMENTATIONS:
        raise SndskitError(f"unknown engine {name!r}", field="engine", allowed=list(ENGINES))
    from importlib import import_module

    module, cls = _IMPLEMENTATIONS[name].split(":")
    return getattr(import_module(module), cls)(data, master=master, session=session)
