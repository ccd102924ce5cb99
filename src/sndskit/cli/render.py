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


ThresholdOption = Annotated[
    int,
    typer.Option(
        help="Mask counts of 1..threshold persons (default 10, the HDH rule; lower values "
        "need --unsafe-threshold)."
    ),
]
"""The privacy threshold option shared by every command that prints counts."""

SepOption = Annotated[
    str, typer.Option("--sep", help="CSV separator: ',' or ';' (French spreadsheets) or '\\t'.")
]
BomOption = Annotated[
    bool, typer.Option("--bom", help="Start the CSV with a UTF-8 BOM (Excel reads accents).")
]
UnsafeOption = Annotated[
    bool,
    typer.Option(
        "--unsafe-threshold",
        help="Allow a threshold below 10 (outputs then must not leave the secure environment).",
    ),
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Publish even if the release ledger finds a small difference with an earlier "
        "output (the override is recorded).",
    ),
]


def check_threshold_option(threshold: int, unsafe: bool) -> int:
    """Validate the threshold and warn (FR/EN, on stderr) on every run below the default."""
    from sndskit.disclosure import check_threshold, threshold_warning

    check_threshold(threshold, unsafe=unsafe)
    warning = threshold_warning(threshold)
    if warning:
        err_console.print(f"[bold yellow]warning:[/] {warning}", markup=True)
    return threshold


def print_layout(out: Any) -> None:
    """Say which files are person-level (stay inside) and which may be released."""
    from pathlib import Path

    out = Path(out)
    private = sorted(p.name for p in (out / "private").glob("*") if p.is_file())
    export = sorted(p.name for p in (out / "export").glob("*") if p.is_file())
    console.print(
        f"[bold red]person-level, never export / niveau individuel, ne sort pas:[/] "
        f"{out / 'private'}: {', '.join(private)}",
        markup=True,
    )
    console.print(
        f"[bold green]releasable after review / exportable après validation:[/] "
        f"{out / 'export'}: {', '.join(export)} — check with `sndskit export check "
        f"{out / 'export'}`",
        markup=True,
    )
