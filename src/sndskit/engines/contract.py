"""The engine contract: what DuckDB, Spark (and any later engine) must do.

An engine runs a named plan of sqlglot steps (each materialised under its name), reads a
data source (the SNDS tables as views, a Parquet file as a table), answers queries and says
what it can do. Engines are chosen by name through :func:`sndskit.engines.open_engine`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from sqlglot import exp
from sqlglot.errors import ErrorLevel

ENGINES = ("duckdb", "spark")  # engines that run SQL
DIALECTS = ("duckdb", "spark", "oracle")  # dialects SQL is printed in (Oracle: not run)


@dataclass
class PlanStep:
    """One named step of a plan: a query materialised under ``name``."""

    name: str
    comment: str
    query: exp.Expression
    attrition: str | None = None  # label of the attrition row this step defines
    keep: Literal["table", "view"] = "table"  # view: computed where it is read


def choose_storage(steps: list[PlanStep], final: str) -> None:
    """Materialise only what pays: a step read by one later step (or only counted for the
    attrition table) becomes a view the engine inlines; a step read twice or more, an
    attrition step read again, and the final step stay tables."""
    for number, step in enumerate(steps):
        readers = sum(
            any(t.name == step.name for t in later.query.find_all(exp.Table))
            for later in steps[number + 1 :]
        )
        shared = readers >= 2 or (readers == 1 and step.attrition is not None)
        step.keep = "table" if shared or step.name == final else "view"


def to_sql(query: exp.Expression, dialect: str, *, pretty: bool = False) -> str:
    """SQL text of ``query``; a construct the dialect does not support raises (never a
    silently different query)."""
    return query.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)


StepDone = Callable[[PlanStep, int, int], None]


@runtime_checkable
class Engine(Protocol):
    name: str
    dialect: str
    capabilities: frozenset[str]  # e.g. {"temp_tables", "parquet_out", "catalog_tables"}

    def schema(self) -> dict[str, dict[str, str]]:
        """Column names and SQL types of every table of the data source."""

    def register_parquet(self, name: str, path: Path) -> None:
        """Read a Parquet file (e.g. a cohort written earlier) as table ``name``."""

    def materialise(self, name: str, query: exp.Expression, keep: str = "table") -> None:
        """Make ``query`` readable as ``name``: a table (computed once) or a view."""

    def run(self, steps: Iterable[PlanStep], on_step: StepDone | None = None) -> None:
        """Materialise each step under its name, in order."""

    def fetch(self, query: exp.Expression) -> list[tuple]:
        """The rows of a query."""

    def count(self, name: str) -> tuple[int, int]:
        """Distinct persons and rows of a materialised step."""

    def rows(self, name: str, columns: list[str]) -> list[tuple]:
        """Rows of a materialised step, ordered by its first two columns."""

    def write_parquet(self, name: str, path: Path, order_by: tuple[str, ...] = ()) -> None:
        """Write a materialised step as one Parquet file, rows in ``order_by`` order."""

    def close(self) -> None:
        """Drop what the engine created."""


def run_steps(engine, steps: Iterable[PlanStep], on_step: StepDone | None) -> None:
    """The shared loop of :meth:`Engine.run`: materialise in order, report each step."""
    steps = list(steps)
    for number, step in enumerate(steps, start=1):
        engine.materialise(step.name, step.query, step.keep)
        if on_step:
            on_step(step, number, len(steps))
