"""`sndskit data …`: fetch public reference data, build the local store, show its status."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sndskit.cli.render import console, print_json, sample_notice
from sndskit.config import fetched_sources_dir
from sndskit.refdata.importer import import_reference_data
from sndskit.refdata.status import get_store_status

app = typer.Typer(no_args_is_help=True, help="Reference data: fetch, import, status.")


def _progress(**columns) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        *columns.values(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


@app.command("fetch")
def fetch_command(
    dest: Annotated[
        Path | None, typer.Option(help="Destination folder [default: $SNDSKIT_HOME/sources].")
    ] = None,
    mirror: Annotated[
        str | None,
        typer.Option(help="Base URL of a mirror (file://, https://) replacing every origin."),
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option(help="Fetch only this source id (repeatable).")
    ] = None,
) -> None:
    """Download the public reference sources, recording origin, date and sha256."""
    from sndskit.refdata.fetch import fetch_sources

    dest = dest or fetched_sources_dir()
    with _progress(size=DownloadColumn()) as progress:
        tasks: dict[str, int] = {}

        def advance(description: str, done: int, total: int | None) -> None:
            if description not in tasks:
                tasks[description] = progress.add_task(description, total=total)
            progress.update(tasks[description], advance=done, total=total)

        report = fetch_sources(dest, mirror=mirror, only=only, progress=advance)
    console.print(f"fetched {len(report.files)} file(s), {report.total_bytes:,} bytes into {dest}")
    console.print(f"record: {report.record_path}")
    console.print("next: `sndskit data import --from` this folder")


@app.command("import")
def import_command(
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Reference-data folder [default: ../shared/data, then fetched sources, "
            "then the built-in sample].",
        ),
    ] = None,
) -> None:
    """Build the local store ($SNDSKIT_HOME) from reference data; atomic and idempotent."""
    with _progress() as progress:
        tasks: dict[str, int] = {}

        def advance(description: str, done: int, total: int) -> None:
            if description not in tasks:
                tasks[description] = progress.add_task(description, total=total)
            progress.update(tasks[description], completed=done)

        report = import_reference_data(source, progress=advance)
    sample_notice(report.is_sample)
    console.print(
        f"imported {report.tables} tables, {report.fields} variables, {report.foreign_keys} "
        f"foreign keys, {report.nomenclatures} nomenclatures from {report.source} "
        f"in {report.seconds:.1f} s"
    )
    if report.nomenclatures_without_values:
        console.print(
            f"schema only (values not public): {', '.join(report.nomenclatures_without_values)}"
        )
    console.print(f"store: {report.store}")


@app.command("status")
def status_command(
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What is loaded in the local store, from where, when."""
    status = get_store_status()
    if json_output:
        return print_json(status)
    if not status["exists"]:
        console.print(f"no store at {status['store']} — run `sndskit data import`")
        raise typer.Exit(1)
    manifest = status["manifest"]
    sample_notice(manifest["is_sample"])
    table = Table("item", "value", title="sndskit store", show_header=False)
    table.add_row("store", status["store"])
    table.add_row("size", f"{status['bytes']:,} bytes")
    table.add_row("imported at", manifest["imported_at"])
    table.add_row(
        "source", manifest["source"] + (" (built-in sample)" if manifest["is_sample"] else "")
    )
    table.add_row("sndskit version", manifest["sndskit_version"])
    for key, value in manifest["counts"].items():
        table.add_row(
            key.replace("_", " "), ", ".join(value) if isinstance(value, list) else str(value)
        )
    for name, source in manifest["sources"].items():
        table.add_row(f"{name} sha256", f"{source['sha256'][:16]}… ({source['files']} files)")
    console.print(table)
