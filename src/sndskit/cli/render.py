"""Shared rendering helpers for the CLI (rich tables, JSON output, sample notice)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """JSON on stdout, UTF-8, nothing else (notices go to stderr)."""
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def sample_notice(is_sample: bool) -> None:
    if is_sample:
        err_console.print(
            "[yellow][SAMPLE][/] built-in miniature reference data, not the real SNDS "
            "snapshot — run `sndskit data import --from DIR` with the real data",
            markup=True,
        )


ThresholdOption = Annotated[int, typer.Option(help="Mask counts of 1..threshold persons.")]
"""The privacy threshold option shared by every command that prints counts."""

SepOption = Annotated[
    str, typer.Option("--sep", help="CSV separator: ',' or ';' (French spreadsheets) or '\\t'.")
]
BomOption = Annotated[
    bool, typer.Option("--bom", help="Start the CSV with a UTF-8 BOM (Excel reads accents).")
]
