"""Figures for papers and steering committees: attrition flowchart and rates by year.

Both draw published (masked) rows only, state the threshold in their footer and carry the
data they draw in the PNG (``sndskit-data`` text chunk) so that ``sndskit export check`` can
check a figure like a table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from sndskit.disclosure import MASK
from sndskit.disclosure.publish import save_png


def plot_attrition(rows: list[dict[str, Any]], out: Path, title: str, threshold: int) -> Path:
    """A vertical flowchart of the published attrition steps (masked steps read ``masked``)."""
    height = 1.1 * len(rows) + 0.8
    fig, ax = plt.subplots(figsize=(7.5, height))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, height)
    ax.axis("off")
    ax.set_title(title, fontsize=11)
    drawn = []
    for i, row in enumerate(rows):
        y = height - 1.0 - 1.1 * i
        persons = MASK if row.get("masked") else row["persons"]
        drawn.append({"step": row["step"], "persons": persons})
        ax.add_patch(
            FancyBboxPatch(
                (0.5, y - 0.35),
                9,
                0.7,
                boxstyle="round,pad=0.05",
                facecolor="#eef3fb",
                edgecolor="#3b5b92",
            )
        )
        ax.text(5, y + 0.08, row["step"], ha="center", va="center", fontsize=8.5, wrap=True)
        ax.text(5, y - 0.2, f"{persons} persons", ha="center", va="center", fontsize=8)
        if i < len(rows) - 1:
            ax.annotate("", xy=(5, y - 0.75), xytext=(5, y - 0.4), arrowprops={"arrowstyle": "->"})
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    try:
        return save_png(fig, out, drawn, threshold)
    finally:
        plt.close(fig)


def plot_rates(margins: list[dict[str, Any]], out: Path, title: str, threshold: int) -> Path:
    """Incidence and prevalence per 100,000 by year and sex (all ages), from the published
    year × sex rows (``rates_by_year_sex.csv``); masked rows are not drawn."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    drawn = []
    for ax, key, label in (
        (axes[0], "incidence_per_100k", "incidence per 100,000 person-years"),
        (axes[1], "prevalence_per_100k", "prevalence per 100,000"),
    ):
        for sex in ("male", "female"):
            points = [
                (r["year"], r[key])
                for r in margins
                if r["sex"] == sex and not r.get("masked") and r.get(key) is not None
            ]
            drawn += [{"sex": sex, "year": y, key: v} for y, v in points]
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=sex)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("year")
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    try:
        return save_png(fig, out, drawn, threshold)
    finally:
        plt.close(fig)
