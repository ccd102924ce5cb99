"""`sndskit export check DIR`: the automatic control before anything leaves."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sndskit.cli.render import ThresholdOption, UnsafeOption, check_threshold_option, console
from sndskit.disclosure import DEFAULT_THRESHOLD
from sndskit.disclosure.scan import check_export

app = typer.Typer(no_args_is_help=True, help="Export control: check a folder before release.")


@app.command("check")
def check_command(
    folder: Annotated[Path, typer.Argument(help="Folder to release (e.g. OUT/export).")],
    quarantine: Annotated[
        Path | None, typer.Option(help="Where failing files go (default: ../quarantine).")
    ] = None,
    threshold: ThresholdOption = DEFAULT_THRESHOLD,
    unsafe_threshold: UnsafeOption = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report only, move nothing.")] = False,
) -> None:
    """Scan CSV, XLSX, JSON, Markdown, HTML and sndskit PNGs for small counts, totals giving
    back masked cells, person-level files and identifiers; quarantine what fails; write
    export_check.md/.json beside the folder. Exit code 1 when something failed."""
    check_threshold_option(threshold, unsafe_threshold)
    if not folder.is_dir():
        from sndskit.errors import SndskitError

        raise SndskitError("folder not found", file=folder)
    reports = check_export(folder, threshold=threshold, quarantine=quarantine, move=not dry_run)
    table = Table("file", "status", "problems / notes", title=f"export check — {folder}")
    for r in reports:
        colour = {"pass": "green", "review": "yellow", "fail": "red"}[r.status]
        table.add_row(r.file, f"[{colour}]{r.status}[/]", "; ".join(r.problems + r.notes))
    console.print(table)
    failed = [r for r in reports if r.status == "fail"]
    console.print(
        f"{len(failed)} file(s) failed"
        + (
            ""
            if dry_run or not failed
            else f", moved to {quarantine or folder.parent / 'quarantine'}"
        )
        + f"; report: {folder.parent / 'export_check.md'}"
    )
    if failed:
        raise typer.Exit(1)
