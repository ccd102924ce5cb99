"""Figures for papers and steering committees: attrition flowchart and rates by year."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch


def plot_attrition(attrition_csv: Path, out: Path, title: str) -> Path:
    """A vertical flowchart of the attrition steps, masked counts as written in the CSV."""
    with attrition_csv.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    height = 1.1 * len(rows) + 0.8
    fig, ax = plt.subplots(figsize=(7.5, height))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, height)
    ax.axis("off")
    ax.set_title(title, fontsize=11)
    for i, row in enumerate(rows):
        y = height - 1.0 - 1.1 * i
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
        ax.text(
            5,
            y - 0.2,
            f"{row['persons']} persons",
            ha="center",
            va="center",
            fontsize=8,
            color="#333",
        )
        if i < len(rows) - 1:
            ax.annotate("", xy=(5, y - 0.75), xytext=(5, y - 0.4), arrowprops={"arrowstyle": "->"})
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return out


def plot_rates(rates: list[dict[str, Any]], out: Path, title: str) -> Path:
    """Incidence and prevalence per 100,000 by year and sex (all ages), masked cells omitted."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, key, label in (
        (axes[0], "incident", "incidence per 100,000 person-years"),
        (axes[1], "prevalent", "prevalence per 100,000"),
    ):
        for sex in ("male", "female"):
            years, values = [], []
            for year in sorted({r["year"] for r in rates}):
                cells = [r for r in rates if r["year"] == year and r["sex"] == sex]
                if any(r[key] is None for r in cells):
                    continue  # a masked cell: the total would give it back
                cases = sum(r[key] for r in cells)
                denominator = sum(
                    r["person_years"] if key == "incident" else (r["population"] or 0)
                    for r in cells
                )
                if denominator and cases > 10:
                    years.append(year)
                    values.append(100_000 * cases / denominator)
            ax.plot(years, values, marker="o", label=sex)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("year")
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return out
