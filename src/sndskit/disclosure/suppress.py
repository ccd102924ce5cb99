"""Choose the suppression pattern of one publication, then prove it with the audit.

1. *Primary*: every published count of 1–threshold persons, and every cell linked to it (the
   same stratum in every table of the run).
2. *Secondary*, until the audit passes: for every interval the audit finds too narrow, the
   cheapest visible cell of an equation reaching it (inner cells before totals, the nearest
   equation first, the smallest cell large enough to give the threshold of protection) is
   suppressed too, with its links. Zero cells are never chosen: they protect nothing.

Cells already released visible (cost ``inf``) are never chosen; ``initial`` cells (already
released masked) stay masked. The audit decides; if no cell is left to suppress the
publication is refused (:class:`DisclosureError`), never written with a weak pattern.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from sndskit.disclosure.audit import AuditResult, Interval, audit_pattern
from sndskit.disclosure.problem import Key, Problem
from sndskit.disclosure.threshold import check_threshold, is_small
from sndskit.errors import SndskitError

MAX_ROUNDS = 200


class DisclosureError(SndskitError):
    """Outputs refused: a masked count could be recomputed from what would be published."""


@dataclass
class Protection:
    """A suppression pattern and the audit that proves it."""

    suppressed: set[Key]
    audit: AuditResult

    def is_masked(self, key: Key) -> bool:
        return key in self.suppressed


def protect(
    problem: Problem,
    threshold: int,
    *,
    unsafe: bool = False,
    initial: Iterable[Key] = (),
) -> Protection:
    """The suppression pattern of ``problem`` that passes the audit.

    >>> p = Problem()
    >>> cells = [p.add(("t", i), v) for i, v in enumerate([3, 40, 55])]
    >>> p.add_sum(p.add(("t", "total"), 98), cells)
    >>> sorted(protect(p, 10).suppressed)
    [('t', 0), ('t', 1)]
    """
    check_threshold(threshold, unsafe=unsafe)
    suppressed = problem.linked(
        [k for k, c in problem.cells.items() if c.published and is_small(c.value, threshold)]
        + list(initial)
    )
    neighbours, passed = _neighbours(problem), {}
    for _ in range(MAX_ROUNDS):
        audit = audit_pattern(problem, suppressed, threshold, passed=passed)
        if audit.ok:
            return Protection(suppressed, audit)
        added: set[Key] = set()
        for failure in audit.failures:
            if any(k in added for k in failure.keys):
                continue
            choice = _secondary(problem, failure, suppressed, added, neighbours, threshold)
            if choice is not None:
                added.add(choice)
        if not added:  # nothing left to suppress that could widen the failing intervals
            failure = audit.failures[0]
            raise DisclosureError(
                f"no suppression pattern protects {failure.keys[0]!r}: its interval "
                f"[{failure.low:g}, {failure.high:g}] stays narrower than {threshold} "
                "whatever else is masked; outputs not written",
                hint="publish fewer margins or coarser strata",
            )
        suppressed |= problem.linked(added)
    raise DisclosureError(f"no suppression pattern found in {MAX_ROUNDS} rounds")


def _neighbours(problem: Problem) -> dict[Key, list[int]]:
    out: dict[Key, list[int]] = {}
    for i, equation in enumerate(problem.equations):
        for key in equation:
            out.setdefault(key, []).append(i)
    return out


def _secondary(
    problem: Problem,
    failure: Interval,
    suppressed: set[Key],
    added: set[Key],
    neighbours: dict[Key, list[int]],
    threshold: int,
) -> Key | None:
    """Breadth-first over equations from the failing cells, through unknown cells. None when
    nothing can be chosen, or when a cell chosen this round already reaches the failure (the
    next audit tells whether it was enough: choosing more now would over-suppress)."""
    need = threshold + 1 - min(failure.value, threshold)
    seen_eq: set[int] = set()
    frontier, depth, best = list(failure.keys), 0, None
    seen_cells = set(frontier)
    while frontier and depth < 6:
        next_frontier = []
        for key in frontier:
            for i in neighbours.get(key, []):
                if i in seen_eq:
                    continue
                seen_eq.add(i)
                for other in problem.equations[i]:
                    if other in added:
                        return None
                    if other in seen_cells:
                        continue
                    seen_cells.add(other)
                    cell = problem.cells[other]
                    if not cell.published or other in suppressed:
                        next_frontier.append(other)
                    elif cell.value > 0 and cell.cost != math.inf:
                        big_enough = cell.value >= need
                        rank = (
                            cell.cost,
                            depth,
                            not big_enough,
                            cell.value if big_enough else -cell.value,
                        )
                        if best is None or rank < best[0]:
                            best = (rank, other)
        frontier, depth = next_frontier, depth + 1
    return None if best is None else best[1]
