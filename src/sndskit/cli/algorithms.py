"""`sndskit algo …`: the catalogue of executable, documented, validated SNDS algorithms."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sndskit.algorithms import (
    catalogue_root,
    export_boas,
    get_algorithm,
    lint_algorithm,
    list_algorithms,
    new_algorithm,
    render_boas,
    run_algorithm,
    validate_persons,
)
from sndskit.algorithms.contribute import bump_version, write_synthetic_validation
from sndskit.algorithms.disclosure import DEFAULT_THRESHOLD, render_count
from sndskit.algorithms.docs import build_site, write_fiches
from sndskit.algorithms.validate import as_evidence
from sndskit.cli.render import (
    ThresholdOption,
    UnsafeOption,
    check_threshold_option,
    console,
    print_json,
)
from sndskit.config import store_path
from sndskit.disclosure import threshold_note
from sndskit.engines.datasource import open_data
from sndskit.errors import SndskitError
from sndskit.io import write_text_atomic

app = typer.Typer(
    no_args_is_help=True,
    help="Algorithm catalogue (BOAS-style): fiches, runs, synthetic validation, lint, BOAS export.",
)
NameArg = Annotated[str, typer.Argument(help="Algorithm id (catalogue) or folder path.")]
RootOption = Annotated[
    Path | None, typer.Option("--root", help="Catalogue folder (default: the built-in one).")
]


@app.command("list")
def list_command(
    root: RootOption = None,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every algorithm of the catalogue with its version, status and title."""
    rows = [
        {
            "id": a.id,
            "version": a.meta.version,
            "status": a.meta.status,
            "category": a.meta.objective.category,
            "title_fr": a.meta.title.fr,
            "title_en": a.meta.title.en,
        }
        for a in list_algorithms(root)
    ]
    if json_output:
        return print_json(rows)
    table = Table("id", "version", "status", "category", "titre / title")
    for r in rows:
        table.add_row(r["id"], r["version"], r["status"], r["category"], r["title_fr"])
    console.print(table)


@app.command("show")
def show_command(
    name: NameArg,
    lang: Annotated[str, typer.Option(help="fr or en.")] = "fr",
) -> None:
    """The fiche of an algorithm (Markdown)."""
    algorithm = get_algorithm(name)
    if lang not in ("fr", "en"):
        raise SndskitError(f"unknown language {lang!r}", field="lang", allowed=["fr", "en"])
    path = algorithm.path / ("README.md" if lang == "fr" else "README.en.md")
    print(path.read_text(encoding="utf-8"), end="")


@app.command("run")
def run_command(
    name: NameArg,
    data: Annotated[Path, typer.Option(help="SNDS tables: a folder or a .duckdb file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    engine: Annotated[str, typer.Option(help="duckdb or spark.")] = "duckdb",
    end: Annotated[
        str | None, typer.Option(help="Move every period to end on this day (YYYY-MM-DD).")
    ] = None,
    threshold: ThresholdOption = DEFAULT_THRESHOLD,
    unsafe_threshold: UnsafeOption = False,
) -> None:
    """Run an algorithm: private/persons.parquet, export/ (counts.csv masked, manifest.json,
    EXPORT.md), cohorts/."""
    check_threshold_option(threshold, unsafe_threshold)
    algorithm = get_algorithm(name)
    with console.status(f"running {algorithm.id}") as status:
        result = run_algorithm(
            algorithm,
            open_data(data),
            out,
            engine=engine,
            threshold=threshold,
            unsafe_threshold=unsafe_threshold,
            end=_day(end, "end"),
            progress=lambda text, done, total: status.update(f"{text} ({done}/{total})"),
        )
    table = Table("year", "cohorts", "persons", title=f"{algorithm.id} {algorithm.meta.version}")
    for row in result.counts:
        table.add_row(str(row["year"]), row["cohorts"], render_count(row["persons"], row["masked"]))
    table.caption = f"{threshold_note(threshold, 'fr')} / {threshold_note(threshold)}"
    console.print(table)
    console.print(
        f"written: {out}/private/persons.parquet (person-level, stays inside), "
        f"{out}/export/ (counts.csv, manifest.json, EXPORT.md), {out}/cohorts/"
    )


def _day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SndskitError(f"{value!r} is not a date (YYYY-MM-DD)", field=field) from None


@app.command("validate")
def validate_command(
    name: NameArg,
    data: Annotated[Path, typer.Option(help="Synthetic data folder with truth/.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the algorithm's run.")],
    write: Annotated[
        bool, typer.Option("--write", help="Store the level-0 evidence in the folder.")
    ] = False,
    engine: Annotated[str, typer.Option(help="duckdb or spark.")] = "duckdb",
    threshold: ThresholdOption = DEFAULT_THRESHOLD,
    unsafe_threshold: UnsafeOption = False,
) -> None:
    """Sensitivity, specificity, PPV, NPV (95 % Wilson) against the planted synthetic truth."""
    check_threshold_option(threshold, unsafe_threshold)
    algorithm = get_algorithm(name)
    truth = algorithm.meta.synthetic_truth
    if truth is None:
        raise SndskitError(
            "no synthetic_truth in the metadata",
            file=algorithm.path / "algorithm.yaml",
            field="synthetic_truth",
        )
    result = run_algorithm(
        algorithm,
        open_data(data),
        out,
        engine=engine,
        threshold=threshold,
        unsafe_threshold=unsafe_threshold,
    )
    report = validate_persons(set(result.persons), data, truth, threshold, unsafe=unsafe_threshold)
    manifest = json.loads((data / "truth" / "manifest.json").read_text(encoding="utf-8"))
    evidence = as_evidence(report, truth, manifest)
    table = Table("metric", "value", "95 % CI (Wilson)", title=f"{algorithm.id} — SYNTHETIC DATA")
    for m in evidence.metrics:
        table.add_row(m.name, f"{m.value:.3f}", f"{m.ci_low:.3f}–{m.ci_high:.3f}")
    for withheld in report.withheld:
        table.add_row(withheld, "masked", "")
    console.print(table)
    console.print(", ".join(f"{k.upper()} {v}" for k, v in report.published_cells().items()))
    if write:
        path = write_synthetic_validation(algorithm.path, evidence)
        console.print(f"written: {path} (fiches regenerated)")


@app.command("docs")
def docs_command(
    name: Annotated[str | None, typer.Argument(help="One algorithm (default: all).")] = None,
    fiches: Annotated[
        bool, typer.Option("--fiches", help="Regenerate README.md / README.en.md in the folder.")
    ] = False,
    site: Annotated[Path | None, typer.Option(help="Build the static catalogue site here.")] = None,
    data: Annotated[
        Path | None, typer.Option(help="With --site: run each algorithm here for its attrition.")
    ] = None,
    threshold: ThresholdOption = DEFAULT_THRESHOLD,
    unsafe_threshold: UnsafeOption = False,
    root: RootOption = None,
) -> None:
    """Regenerate fiches and/or build the static catalogue site (French and English)."""
    check_threshold_option(threshold, unsafe_threshold)
    algorithms = [get_algorithm(name, root)] if name else list_algorithms(root)
    if not fiches and site is None:
        raise SndskitError("give --fiches and/or --site DIR", field="docs")
    if fiches:
        for algorithm in algorithms:
            write_fiches(algorithm)
        console.print(f"fiches written: {len(algorithms)} algorithm(s)")
    if site is not None:
        attrition = None
        if data is not None:
            with tempfile.TemporaryDirectory() as runs:
                attrition = {
                    a.id: run_algorithm(
                        a,
                        open_data(data),
                        Path(runs) / a.id,
                        threshold=threshold,
                        unsafe_threshold=unsafe_threshold,
                    ).attrition
                    for a in algorithms
                }
        written = build_site(algorithms, site, attrition, threshold)
        console.print(f"site: {len(written)} pages in {site} (index.fr.html, index.en.html)")


@app.command("export")
def export_command(
    name: NameArg,
    format: Annotated[str, typer.Option("--format", help="boas (Markdown) or boas-json.")] = "boas",
    output: Annotated[Path | None, typer.Option("-o", help="Write to this file.")] = None,
) -> None:
    """The BOAS fiche fields and submission sections of an algorithm."""
    if format not in ("boas", "boas-json"):
        raise SndskitError(
            f"unknown format {format!r}", field="format", allowed=["boas", "boas-json"]
        )
    exported = export_boas(get_algorithm(name))
    text = (
        json.dumps(exported, indent=2, ensure_ascii=False) + "\n"
        if format == "boas-json"
        else render_boas(exported)
    )
    if output:
        write_text_atomic(output, text)
        console.print(f"written: {output}")
    else:
        print(text, end="")


@app.command("lint")
def lint_command(
    name: Annotated[str | None, typer.Argument(help="One algorithm (default: all).")] = None,
    root: RootOption = None,
) -> None:
    """Check metadata, code lists against specs and terminology, compilation, version record
    and generated fiches; exit code 1 on any error."""
    base = Path(root) if root else catalogue_root()
    folders = (
        [get_algorithm(name, root).path]
        if name
        else sorted(p for p in base.iterdir() if (p / "algorithm.yaml").is_file())
    )
    store = store_path()
    errors = 0
    for folder in folders:
        problems = lint_algorithm(folder, store if store.is_file() else None)
        errors += sum(p.severity == "error" for p in problems)
        mark = "[red]✗[/]" if any(p.severity == "error" for p in problems) else "[green]✓[/]"
        console.print(f"{mark} {folder.name}", markup=True)
        for problem in problems:
            console.print(f"  {problem.render()}", markup=False, soft_wrap=True)
    if errors:
        raise typer.Exit(1)


@app.command("bump")
def bump_command(
    name: NameArg,
    part: Annotated[str, typer.Argument(help="major, minor or patch.")],
    note: Annotated[str, typer.Option(help="What changed (French / English).")],
    root: RootOption = None,
) -> None:
    """Raise the version after a change of spec or code list, record it, regenerate fiches."""
    algorithm = get_algorithm(name, root)
    version = bump_version(algorithm.path, part, note)
    console.print(f"{algorithm.id}: version {version} recorded in CHANGELOG.md")


@app.command("new")
def new_command(
    name: Annotated[str, typer.Argument(help="Id of the new algorithm (folder name).")],
    root: Annotated[Path, typer.Option("--root", help="Catalogue folder to create it in.")],
) -> None:
    """Create an algorithm folder from the template (code lists built, version recorded)."""
    folder = new_algorithm(name, root, store=store_path())
    console.print(
        f"created: {folder} — edit algorithm.yaml, cohort.yaml, codelists/, then "
        f"`sndskit algo lint {folder}`"
    )
