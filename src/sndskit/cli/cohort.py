"""`sndskit cohort …`: compile a cohort spec to SQL, run it, describe it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sndskit.cli.render import ThresholdOption, console, print_json
from sndskit.cohorts.describe import describe_cohort
from sndskit.cohorts.runner import plan_cohort, plan_inputs, resolve_codelists
from sndskit.cohorts.spec import CohortSpec
from sndskit.engines.contract import DIALECTS, ENGINES
from sndskit.errors import SndskitError
from sndskit.io import write_text_atomic
from sndskit.privacy import DEFAULT_THRESHOLD, render_count
from sndskit.specs import load_spec

app = typer.Typer(no_args_is_help=True, help="Cohorts: one YAML spec, SNDS SQL, attrition, counts.")
SpecArg = Annotated[Path, typer.Argument(help="Cohort spec (YAML).")]


def _spec(path: Path) -> CohortSpec:
    return load_spec(path, CohortSpec)


@app.command("sql")
def sql_command(
    spec: SpecArg,
    dialect: Annotated[str, typer.Option(help=f"{', '.join(DIALECTS)}.")] = "duckdb",
    inputs: Annotated[
        bool, typer.Option("--inputs", help="List the tables, columns and years read.")
    ] = False,
    data: Annotated[
        Path | None, typer.Option(help="Compile against this data folder's columns.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="With --inputs: JSON.")] = False,
) -> None:
    """Print the SQL of a cohort (one commented step per stage) or what it reads."""
    cohort = _spec(spec)
    folder = None
    if data:
        from sndskit.engines.datasource import open_data

        folder = open_data(data)
    plan = plan_cohort(cohort, resolve_codelists(cohort, spec.parent), folder)
    if not inputs:
        print(plan.to_sql(dialect), end="")
        return
    listing = plan_inputs(plan)
    if json_output:
        return print_json(listing)
    sources = Table("source", "label", "vocabularies", title=f"event sources of {cohort.name}")
    for row in listing["sources"]:
        sources.add_row(row["source"], row["label_en"], ", ".join(row["vocabularies"]))
    console.print(sources)
    table = Table("table", "columns", title=f"inputs of {cohort.name}")
    for name, columns in plan.reads.items():
        table.add_row(name, ", ".join(columns))
    console.print(table)
    console.print(
        f"PMSI years: {', '.join(map(str, plan.years))}; DCIR flux months: "
        f"{listing['dcir_flux_months'][0]} → {listing['dcir_flux_months'][1]}"
    )


def _data(data, spark_database, mapping, engine, master):
    if spark_database:
        if engine != "spark":
            raise SndskitError(
                "--spark-database needs --engine spark", field="engine", allowed=["spark"]
            )
        from sndskit.engines.spark_engine import SparkCatalogData, spark_session

        return SparkCatalogData(spark_session(master), spark_database, mapping)
    if data is None:
        raise SndskitError("give --data (folder or .duckdb file) or --spark-database", field="data")
    from sndskit.engines.datasource import open_data

    return open_data(data, mapping)


@app.command("run")
def run_command(
    spec: SpecArg,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    data: Annotated[
        Path | None, typer.Option(help="SNDS tables: a folder (Parquet/CSV) or a .duckdb file.")
    ] = None,
    spark_database: Annotated[
        str | None, typer.Option(help="Read the tables of this Spark catalog database instead.")
    ] = None,
    engine: Annotated[str, typer.Option(help=f"{' or '.join(ENGINES)}.")] = "duckdb",
    master: Annotated[str | None, typer.Option(help="Spark master URL (default local[2]).")] = None,
    threshold: ThresholdOption = DEFAULT_THRESHOLD,
    mapping: Annotated[
        Path | None, typer.Option(help="YAML {logical SNDS name: physical table name}.")
    ] = None,
) -> None:
    """Run a cohort: cohort.parquet, attrition.csv, counts.csv (masked), manifest.json."""
    from sndskit.cohorts.runner import run_cohort

    cohort = _spec(spec)
    codelists = resolve_codelists(cohort, spec.parent)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("compiling", total=None)

        def advance(description: str, done: int, total: int) -> None:
            progress.update(task, description=description, completed=done, total=total)

        result = run_cohort(
            cohort,
            _data(data, spark_database, mapping, engine, master),
            out,
            codelists=codelists,
            engine=engine,
            threshold=threshold,
            progress=advance,
            spark_master=master,
        )
    table = Table("step", "persons", "records", title=f"attrition — {cohort.name} ({engine})")
    for row in result.attrition:
        table.add_row(
            row["step"],
            render_count(row["persons"], row["masked"], threshold),
            render_count(row["records"], row["masked"], threshold),
        )
    console.print(table)
    console.print(f"written: {out}/cohort.parquet, attrition.csv, counts.csv, manifest.json")


@app.command("describe")
def describe_command(spec: SpecArg) -> None:
    """The spec as a Markdown method section (French)."""
    print(describe_cohort(_spec(spec)), end="")


@app.command("stats")
def stats_command(
    out: Annotated[Path, typer.Argument(help="Output folder of `cohort run`.")],
    data: Annotated[
        Path, typer.Option(help="The same data folder (beneficiaries for denominators).")
    ],
    threshold: ThresholdOption = DEFAULT_THRESHOLD,
    engine: Annotated[str, typer.Option(help=f"{' or '.join(ENGINES)}.")] = "duckdb",
) -> None:
    """Incidence and prevalence by year, age band and sex (95 % CI), flowchart and plots."""
    from sndskit.cohorts.figures import plot_attrition, plot_rates
    from sndskit.cohorts.stats import summarise_rates
    from sndskit.engines.datasource import open_data

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    period = manifest["spec"]["period"]
    rates = summarise_rates(
        out,
        open_data(data),
        first_year=int(period["start"][:4]),
        last_year=int(period["end"][:4]),
        threshold=threshold,
        engine=engine,
    )
    columns = list(rates[0]) if rates else []
    write_text_atomic(out / "rates.csv", _rates_csv(rates, columns))
    name = manifest["spec"]["name"]
    plot_attrition(out / "attrition.csv", out / "attrition.png", f"{name}: attrition")
    plot_rates(rates, out / "rates.png", name)
    table = Table(
        "year", "sex", "incident", "incidence /100k", "prevalent", "prevalence /100k", title=name
    )
    for row in rates:
        if row["age_band"] == "unknown":
            continue
        table.add_row(
            str(row["year"]),
            f"{row['sex']} {row['age_band']}",
            render_count(row["incident"], row["incidence_masked"], threshold),
            "" if row["incidence_per_100k"] is None else f"{row['incidence_per_100k']:.1f}",
            render_count(row["prevalent"], row["prevalence_masked"], threshold),
            "" if row["prevalence_per_100k"] is None else f"{row['prevalence_per_100k']:.1f}",
        )
    console.print(table)
    console.print(f"written: {out}/rates.csv, attrition.png, rates.png")


def _rates_csv(rates: list[dict], columns: list[str]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rates:
        writer.writerow({k: ("masked" if v is None else v) for k, v in row.items()})
    return buffer.getvalue()
