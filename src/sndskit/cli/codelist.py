"""`sndskit codelist …`: build, show, compare, export and import code lists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sndskit.cli.render import (
    ThresholdOption,
    UnsafeOption,
    check_threshold_option,
    console,
    err_console,
    print_json,
)
from sndskit.codelists.diagnostics import count_usage, find_orphans, protect_usage
from sndskit.codelists.diff import CodelistDiff, diff_codelists, drift
from sndskit.codelists.export import FORMATS, export_codelist, import_codelist
from sndskit.codelists.library import get_library_spec, list_library
from sndskit.codelists.model import Codelist, load_codelist, save_codelist
from sndskit.codelists.resolve import build_codelist
from sndskit.codelists.spec import CodelistSpec
from sndskit.disclosure import DEFAULT_THRESHOLD, MASK, threshold_note
from sndskit.disclosure.publish import csv_text, write_export
from sndskit.engines.datasource import open_data
from sndskit.errors import SndskitError
from sndskit.io import write_text_atomic
from sndskit.specs import load_spec

app = typer.Typer(no_args_is_help=True, help="Code lists: build, freeze, explain, export.")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _load_spec(spec: str) -> CodelistSpec:
    """A spec file, or the name of a curated list of the library."""
    return load_spec(spec, CodelistSpec) if Path(spec).exists() else get_library_spec(spec)


def _summary(codelist: Codelist) -> None:
    counts = {}
    for entry in codelist.entries:
        counts[entry.vocabulary] = counts.get(entry.vocabulary, 0) + 1
    per_vocab = ", ".join(f"{v} {n}" for v, n in sorted(counts.items())) or "no code"
    console.print(
        f"[bold]{codelist.name}[/] v{codelist.version}: {per_vocab}"
        f" ({len(codelist.excluded)} excluded)"
    )
    for warning in codelist.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}")


@app.command("build")
def build_command(
    spec: Annotated[str, typer.Argument(help="Spec YAML/JSON file, or a library list name.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Frozen list (JSON) to write.")],
) -> None:
    """Resolve a spec against the terminology store and freeze it with provenance."""
    codelist = build_codelist(_load_spec(spec))
    save_codelist(codelist, out)
    _summary(codelist)
    console.print(f"written: {out}")


@app.command("show")
def show_command(
    codelist_file: Annotated[Path, typer.Argument(help="Frozen list (JSON).")],
    limit: Annotated[int, typer.Option(help="Rows shown.")] = 100,
    json_output: JsonFlag = False,
) -> None:
    """Each code with its label and why it is in the list."""
    codelist = load_codelist(codelist_file)
    if json_output:
        return print_json(codelist.model_dump(mode="json", exclude_none=True))
    _summary(codelist)
    table = Table("vocabulary", "code", "label", "found from")
    for entry in codelist.entries[:limit]:
        why = "; ".join(
            f"{p.rule}: {p.via}"
            + (f" {p.detail}" if p.detail else "")
            + (" [inferred]" if p.inferred else "")
            for p in entry.found_from
        )
        table.add_row(entry.vocabulary, entry.code, entry.label, why)
    console.print(table)
    if len(codelist.entries) > limit:
        console.print(f"… {len(codelist.entries) - limit} more (--limit, --json)")
    for vocabulary, version in codelist.terminology.items():
        console.print(f"[dim]{vocabulary}: {version}[/]")


def _print_diff(diff: CodelistDiff, json_output: bool) -> None:
    if json_output:
        return print_json(diff.model_dump(mode="json"))
    console.print(f"{diff.old} → {diff.new}")
    for title, rows, colour in (
        ("added", diff.added, "green"),
        ("removed", diff.removed, "red"),
        ("relabelled", diff.relabelled, "yellow"),
    ):
        if rows:
            table = Table(
                "vocabulary", "code", "label", "reason", title=f"[{colour}]{len(rows)} {title}"
            )
            for row in rows:
                table.add_row(row.vocabulary, row.code, row.label, row.reason)
            console.print(table)
    for vocabulary, (before, after) in diff.terminology_changes.items():
        console.print(f"{vocabulary} terminology: {before or '—'} → {after or '—'}")
    if diff.unchanged:
        console.print("same codes")


@app.command("diff")
def diff_command(
    old: Annotated[Path, typer.Argument(help="Older frozen list.")],
    new: Annotated[Path, typer.Argument(help="Newer frozen list.")],
    json_output: JsonFlag = False,
) -> None:
    """Codes added and removed between two frozen lists, with reasons."""
    _print_diff(diff_codelists(load_codelist(old), load_codelist(new)), json_output)


@app.command("drift")
def drift_command(
    codelist_file: Annotated[Path, typer.Argument(help="Frozen list (JSON).")],
    json_output: JsonFlag = False,
) -> None:
    """Re-resolve a list's spec on today's terminologies and show what would change."""
    _print_diff(drift(load_codelist(codelist_file)), json_output)


@app.command("export")
def export_command(
    codelist_file: Annotated[Path, typer.Argument(help="Frozen list (JSON).")],
    fmt: Annotated[str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")] = "csv",
    dialect: Annotated[str, typer.Option(help="SQL dialect (sql format).")] = "duckdb",
    column: Annotated[str | None, typer.Option(help="Column the SQL predicate tests.")] = None,
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Export as CSV, JSON, ATLAS concept set, SQL predicate or Markdown annex."""
    text = export_codelist(load_codelist(codelist_file), fmt, dialect=dialect, column=column)
    if out is None:
        print(text, end="")
    else:
        write_text_atomic(out, text)
        console.print(f"written: {out}")


@app.command("import")
def import_command(
    source: Annotated[Path, typer.Argument(help="CSV (vocabulary,code[,label]) or ATLAS JSON.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Frozen list (JSON) to write.")],
    name: Annotated[str | None, typer.Option(help="Name of the list.")] = None,
) -> None:
    """Turn a list written elsewhere into a frozen sndskit list."""
    codelist = import_codelist(source, name=name)
    if not codelist.entries:
        raise SndskitError("no code in the file", file=source)
    save_codelist(codelist, out)
    _summary(codelist)
    console.print(f"written: {out}")


@app.command("library")
def library_command(json_output: JsonFlag = False) -> None:
    """The curated lists shipped with sndskit (build one with `codelist build NAME -o …`)."""
    specs = list_library()
    if json_output:
        return print_json([s.model_dump(mode="json", exclude_none=True) for s in specs])
    table = Table("name", "description", "vocabularies", "source")
    for spec in specs:
        table.add_row(spec.name, spec.description, ", ".join(spec.vocabularies), spec.source)
    console.print(table)


def _masked_table(rows: list[dict], columns: list[str], threshold: int, title: str) -> Table:
    table = Table(*columns, "records", "persons", title=title, caption=threshold_note(threshold))
    for row in rows:
        shown = [MASK if row["masked"] else str(row[c]) for c in ("records", "persons")]
        table.add_row(*(str(row[c]) for c in columns), *shown)
    return table


def _json(rows: list[dict], threshold: int) -> None:
    print_json([{**row, "threshold": threshold} for row in rows])


@app.command("usage")
def usage_command(
    codelist_file: Annotated[Path, typer.Argument(help="Frozen list (JSON).")],
    data: Annotated[
        Path, typer.Option(help="SNDS tables: a folder (Parquet/CSV) or a .duckdb file.")
    ],
    threshold: ThresholdOption = DEFAULT_THRESHOLD,
    unsafe_threshold: UnsafeOption = False,
    json_output: JsonFlag = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write OUT/export/usage.csv, manifest.json, EXPORT.md."),
    ] = None,
) -> None:
    """Records and distinct persons per code and year in the data (small counts masked)."""
    check_threshold_option(threshold, unsafe_threshold)
    codelist = load_codelist(codelist_file)
    rows, protection = protect_usage(
        count_usage(codelist, open_data(data)), threshold, unsafe_threshold
    )
    if out is not None:
        columns = ["vocabulary", "code", "label", "year", "records", "persons"]
        folder = write_export(
            out,
            f"usage of {codelist.name}",
            {"usage.csv": csv_text(rows, columns, threshold)},
            threshold=threshold,
            audit=protection.audit.summary(),
            manifest={"codelist": {"name": codelist.name, "version": codelist.version}},
        )
        err_console.print(f"releasable after review / exportable après validation: {folder}")
    if json_output:
        return _json(rows, threshold)
    console.print(_masked_table(rows, ["vocabulary", "code", "year", "label"], threshold, "usage"))


@app.command("orphans")
def orphans_command(
    codelist_file: Annotated[Path, typer.Argument(help="Frozen list (JSON).")],
    data: Annotated[
        Path, typer.Option(help="SNDS tables: a folder (Parquet/CSV) or a .duckdb file.")
    ],
    limit: Annotated[int, typer.Option(help="Maximum number of codes.")] = 50,
    threshold: ThresholdOption = DEFAULT_THRESHOLD,
    unsafe_threshold: UnsafeOption = False,
    json_output: JsonFlag = False,
) -> None:
    """Codes present in the data, close to the list but not in it, most frequent first."""
    check_threshold_option(threshold, unsafe_threshold)
    rows = find_orphans(
        load_codelist(codelist_file),
        open_data(data),
        limit=limit,
        threshold=threshold,
        unsafe_threshold=unsafe_threshold,
    )
    if json_output:
        return _json(rows, threshold)
    console.print(
        _masked_table(rows, ["vocabulary", "code", "label", "reason"], threshold, "orphan codes")
    )
