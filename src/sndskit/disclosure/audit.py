"""The audit: what an attacker can deduce about every suppressed cell from everything published.

For each suppressed cell (and each unpublished count, and the sum of the suppressed cells of
each equation) the feasible interval is computed by linear programming — minimise then
maximise the cell subject to every equation, the visible cells fixed and every count ≥ 0 —
with SciPy's HiGHS solver, as τ-ARGUS and sdcTable audit a suppression pattern. The rule:

- a suppressed cell holding persons keeps an interval at least ``threshold`` wide;
- an unpublished count (or a sum of suppressed cells of one equation) of 1–threshold persons
  keeps an interval at least ``threshold`` wide (a count of 0 or above the threshold may be
  deduced: it is not a small count).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sndskit.disclosure.problem import Key, Problem
from sndskit.disclosure.threshold import is_small


@dataclass
class Interval:
    """What an attacker can deduce about one suppressed cell or sum of cells."""

    keys: tuple[Key, ...]
    value: float
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass
class AuditResult:
    threshold: int
    intervals: list[Interval] = field(default_factory=list)
    failures: list[Interval] = field(default_factory=list)
    suppressed: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> dict[str, Any]:
        """The audit's result for the manifest and EXPORT.md."""
        widths = [i.width for i in self.intervals]
        return {
            "method": "linear programming (SciPy HiGHS), every equation of every table",
            "rule": f"every suppressed cell keeps a feasible interval ≥ {self.threshold} wide",
            "threshold": self.threshold,
            "suppressed_cells": self.suppressed,
            "checked_intervals": len(self.intervals),
            "narrowest_interval": None if not widths else _finite(min(widths)),
            "passed": self.ok,
            "failures": [
                {"cells": [list(map(str, k)) for k in f.keys], "low": f.low, "high": f.high}
                for f in self.failures
            ],
        }


def _finite(value: float) -> float | str:
    return "unbounded" if math.isinf(value) else round(value, 3)


class _System:
    """The equations restricted to the unknown cells, split in independent components."""

    def __init__(self, problem: Problem, suppressed: set[Key]) -> None:
        self.unknown = [k for k, c in problem.cells.items() if not c.published or k in suppressed]
        self.index = {k: i for i, k in enumerate(self.unknown)}
        parent = list(range(len(self.unknown)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        self.rows: list[tuple[dict[int, float], float]] = []
        for equation in problem.equations:
            coefs, rhs = {}, 0.0
            for key, coef in equation.items():
                if key in self.index:
                    coefs[self.index[key]] = coefs.get(self.index[key], 0.0) + coef
                else:
                    rhs -= coef * problem.cells[key].value
            if coefs:
                self.rows.append((coefs, rhs))
                first, *rest = coefs
                for other in rest:
                    parent[find(other)] = find(first)
        self.component = [find(i) for i in range(len(self.unknown))]
        self._cache: dict[int, tuple[list[int], Any, np.ndarray, dict[int, int]]] = {}

    def _matrices(self, root: int):
        if root not in self._cache:
            columns = [i for i, r in enumerate(self.component) if r == root]
            local = {c: j for j, c in enumerate(columns)}
            data, rows, cols, rhs = [], [], [], []
            for coefs, b in self.rows:
                if self.component[next(iter(coefs))] != root:
                    continue
                for i, coef in coefs.items():
                    data.append(coef)
                    rows.append(len(rhs))
                    cols.append(local[i])
                rhs.append(b)
            from scipy.sparse import csr_matrix  # scipy is loaded only when an audit runs

            matrix = csr_matrix((data, (rows, cols)), shape=(len(rhs), len(columns)))
            self._cache[root] = (columns, matrix, np.array(rhs), local)
        return self._cache[root]

    def interval(self, keys: tuple[Key, ...]) -> tuple[float, float]:
        root = self.component[self.index[keys[0]]]
        columns, matrix, rhs, local = self._matrices(root)
        objective = np.zeros(len(columns))
        for key in keys:
            objective[local[self.index[key]]] = 1.0
        bounds = []
        for sign in (1.0, -1.0):
            if matrix.shape[0] == 0:
                bounds.append(0.0 if sign > 0 else math.inf)
                continue
            from scipy.optimize import linprog

            result = linprog(
                sign * objective, A_eq=matrix, b_eq=rhs, bounds=(0, None), method="highs"
            )
            if result.status == 3:  # unbounded
                bounds.append(math.inf)
            elif result.status != 0:
                raise RuntimeError(f"audit LP failed ({result.message}) for {keys!r}")
            else:
                bounds.append(sign * result.fun)
        return bounds[0], bounds[1]


def audit_pattern(
    problem: Problem,
    suppressed: set[Key],
    threshold: int,
    *,
    passed: dict[tuple[Key, ...], Interval] | None = None,
) -> AuditResult:
    """Feasible interval of every suppressed cell given everything published; the failures
    are the intervals narrower than ``threshold``.

    ``passed`` holds intervals that passed under a smaller pattern: suppressing more only
    widens every interval (a fixed value becomes free), so they are not solved again."""
    passed = {} if passed is None else passed
    system = _System(problem, suppressed)
    targets: list[tuple[Key, ...]] = []
    for key in system.unknown:
        cell = problem.cells[key]
        if (cell.published and cell.value >= 1) or is_small(cell.value, threshold):
            targets.append((key,))
    for equation in problem.equations:
        parts = tuple(k for k, c in equation.items() if c < 0 and k in suppressed)
        if len(parts) > 1 and is_small(sum(problem.cells[k].value for k in parts), threshold):
            targets.append(parts)
    result = AuditResult(threshold, suppressed=len(suppressed))
    for keys in dict.fromkeys(targets):
        interval = passed.get(keys)
        if interval is None:
            low, high = system.interval(keys)
            interval = Interval(keys, sum(problem.cells[k].value for k in keys), low, high)
        result.intervals.append(interval)
        if interval.width < threshold - 1e-6:
            result.failures.append(interval)
        else:
            passed[keys] = interval
    return result
