"""`sndskit synth …`: synthetic SNDS data with planted traps and ground truth."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sndskit.cli.render import console, print_json, sample_notice

app = typer.Typer(no_args_is_help=True, help="Synthetic SNDS data with planted traps and truth.")


@app.command("generate")
def generate_command(
    patients: Annotated[int, typer.Option("--patients", help="Number of persons.")],
    start: Annotated[int, typer.Option("--start", help="First care year.")],
    end: Annotated[int, typer.Option("--end", help="Last care year.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (replaced atomically).")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    config: Annotated[
        Path | None,
        typer.Option("--config", help="YAML file with any other parameter (trap rates …)."),
    ] = None,
    module: Annotated[
        list[str] | None, typer.Option("--module", help="Only this disease module (repeatable).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Processes [default: one per core].")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Generate SNDS-shaped tables (real names and types) with traps and ground truth."""
    from sndskit.synthetic import build_config, generate, load_config_file

    values = {
        "patients": patients,
        "start_year": start,
        "end_year": end,
        "seed": seed,
        "format": fmt,
    }
    if module:
        values["modules"] = tuple(module)
    cfg = load_config_file(config, **values) if config else build_config(values)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=json_output,
    ) as progress:
        task = progress.add_task("persons", total=cfg.patients)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = generate(cfg, out, workers=workers or os.cpu_count() or 1, progress=advance)
    manifest = report.manifest
    if json_output:
        print_json({**manifest, "seconds": round(report.seconds, 2), "out": str(report.out)})
        return
    sample_notice("built-in sample" in manifest["reference_data"]["source"])
    dcir = sum(n for t, n in report.rows.items() if t.startswith("ER_"))
    speed = dcir / max(report.seconds, 1e-9)
    console.print(
        f"{cfg.patients:,} persons, {cfg.start_year}-{cfg.end_year}, seed {cfg.seed} → "
        f"{report.out} in {report.seconds:.1f} s ({speed:,.0f} DCIR rows/s)"
    )
    table = Table("table", "rows", title="SNDS tables", show_edge=False)
    for name, n in report.rows.items():
        table.add_row(name, f"{n:,}")
    console.print(table)
    traps = Table("trap", "rows", title="planted traps (truth/traps_*)", show_edge=False)
    for name, n in report.trap_rows.items():
        traps.add_row(name, f"{n:,}")
    console.print(traps)
    console.print(
        f"truth: {report.out / 'truth'} (manifest.json, persons, conditions, exposures, …)"
    )


@app.command("show")
def show_command(
    folder: Annotated[Path, typer.Argument(help="A folder written by `synth generate`.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What a generated folder holds, and how its traps inflate naive counts."""
    from sndskit.synthetic.summary import summarise

    summary = summarise(folder)
    if json_output:
        return print_json(summary)
    p = summary["parameters"]
    console.print(
        f"{folder}: {p['patients']:,} persons, {p['start_year']}-{p['end_year']}, seed {p['seed']}"
    )
    for title, section in (("persons", "persons"), ("naive count vs truth", "naive_vs_truth")):
        table = Table("measure", "count", title=title, show_edge=False)
        for name, n in summary[section].items():
            table.add_row(name, f"{n:,}")
        console.print(table)
    table = Table("condition", "cases", "prevalent", "incident", title="truth", show_edge=False)
    for name, c in summary["conditions"].items():
        table.add_row(name, f"{c['cases']:,}", f"{c['prevalent']:,}", f"{c['incident']:,}")
    console.print(table)


@app.command("traps")
def traps_command(
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language of the meanings: fr or en.")] = "fr",
) -> None:
    """Les pièges et options de présentation, leurs valeurs par défaut et leur vérité /
    the planted traps and layout options, their defaults and where their truth is."""
    from sndskit.errors import SndskitError
    from sndskit.synthetic.spec import list_traps

    if lang not in ("fr", "en"):
        raise SndskitError(f"invalid value {lang!r}", field="--lang", allowed=["fr", "en"])
    rows = list_traps(lang)  # type: ignore[arg-type]
    if json_output:
        return print_json(rows)
    table = Table("parameter", "default", "truth/", "meaning", show_edge=False)
    for row in rows:
        table.add_row(row["parameter"], str(row["default"]), row["truth"], row["meaning"])
    console.print(table)
