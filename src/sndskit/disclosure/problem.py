"""Everything a run publishes, as one set of linear relations between counts.

A *cell* is a count of persons: published (a number in a table) or not (a margin that the
tables imply but nobody prints, the persons removed by an attrition step, ``prevalent −
incident``). An *equation* says that a total is the sum of its parts. An attacker knows the
visible cells and every equation; the audit (:mod:`sndskit.disclosure.audit`) computes what
they can deduce about each suppressed cell.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

Key = tuple[Hashable, ...]


@dataclass
class Cell:
    key: Key
    value: float
    published: bool = True
    cost: float = 1.0
    """Preference when a secondary cell is chosen: totals cost more than inner cells."""
    link: Hashable | None = None
    """Cells with the same link share their status (one stratum in several tables)."""


@dataclass
class Problem:
    """The cells and equations of one publication (every table of one run)."""

    cells: dict[Key, Cell] = field(default_factory=dict)
    equations: list[dict[Key, float]] = field(default_factory=list)

    def add(
        self,
        key: Key,
        value: float,
        *,
        published: bool = True,
        cost: float = 1.0,
        link: Hashable | None = None,
    ) -> Key:
        if key in self.cells:
            raise ValueError(f"cell {key!r} added twice")
        self.cells[key] = Cell(key, value, published, cost, link)
        return key

    def add_sum(self, total: Key, parts: Iterable[Key]) -> None:
        """``total = Σ parts``."""
        equation = {total: 1.0}
        for part in parts:
            equation[part] = equation.get(part, 0.0) - 1.0
        self.equations.append(equation)

    def add_gap(self, big: Key, small: Key, key: Key) -> Key:
        """An unpublished count ``big − small ≥ 0`` (persons removed by a step, prevalent but
        not incident…): a count too, that must not be deducible as 1–threshold."""
        gap = self.add(key, self.cells[big].value - self.cells[small].value, published=False)
        self.add_sum(big, [small, gap])
        return gap

    def add_table(
        self,
        name: str,
        rows: Sequence[dict[str, Any]],
        *,
        keys: Sequence[str],
        value: str,
        margins: Iterable[Sequence[str]] = (),
        published: Iterable[Sequence[str]] = (),
        link: Sequence[str] | None = None,
    ) -> list[Key]:
        """One cell per row (key ``(name, value, *row keys)``) and one total per group of each
        margin (key ``(name, value, margin, *group keys)``), published when the margin is in
        ``published``. Returns the row cells' keys in order."""
        shown = {tuple(m) for m in published}
        row_keys = []
        for row in rows:
            key = (name, value, *(row[k] for k in keys))
            self.add(key, row[value], link=None if link is None else tuple(row[k] for k in link))
            row_keys.append(key)
        for margin in {tuple(m) for m in margins} | shown:
            groups: dict[tuple, list[Key]] = {}
            for row, key in zip(rows, row_keys, strict=True):
                groups.setdefault(tuple(row[k] for k in margin), []).append(key)
            for group, parts in groups.items():
                total = (name, value, margin, *group)
                self.add(
                    total,
                    sum(self.cells[p].value for p in parts),
                    published=margin in shown,
                    cost=10.0,
                )
                self.add_sum(total, parts)
        return row_keys

    def linked(self, keys: Iterable[Key]) -> set[Key]:
        """``keys`` and every cell sharing a link with one of them (except cells already
        released visible: cost ``inf``)."""
        out = set(keys)
        links = {self.cells[k].link for k in out if self.cells[k].link is not None}
        if links:
            out |= {k for k, c in self.cells.items() if c.link in links and c.cost != math.inf}
        return out
