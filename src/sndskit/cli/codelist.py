"""`sndskit codelist …`: build, show, compare, export and import code lists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sndskit.cli.render import (
    BomOption,
    SepOption,
    ThresholdOption,
    UnsafeOption,
    check_threshold_option,
    console,
    err_console,
    print_json,
)
from sndskit.codelists.diagnostics import count_usage, find_orphans, protect_usage
from sndskit.codelists.diff import CodelistDiff, diff_codelists, drift
from sndskit.codelists.export import (
    FORMATS,
    atlas_coverage,
    export_codelist,
    import_codelist,
    write_codelist_table,
)
from sndskit.codelists.library import get_library_spec, list_library
from sndskit.codelists.model import Codelist, load_codelist, save_codelist
from sndskit.codelists.resolve import build_codelist
from sndskit.codelists.spec import CodelistSpec
from sndskit.disclosure import DEFAULT_THRESHOLD, MASK, threshold_note
from sndskit.disclosure.publish import csv_text, write_export
from sndskit.engines.datasource import open_data
from sndskit.errors import SndskitError
from sndskit.io import write_text_atomic
from sndskit.omop.source_concepts import find_omop_concepts
from sndskit.omop.vocabulary import connect_vocabulary, default_vocabulary_db
from sndskit.specs import load_spec
from sndskit.tabular import format_for, write_table

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
    sep: SepOption = ",",
    bom: BomOption = False,
    vocab_db: Annotated[
        Path | None,
        typer.Option(
            help="OMOP vocabulary database giving ATLAS concept ids (default: loaded one)."
        ),
    ] = None,
) -> None:
    """Export as CSV, XLSX, JSON, ATLAS concept set, SQL predicate or Markdown annex."""
    codelist = load_codelist(codelist_file)
    if fmt == "atlas":
        return _export_atlas(codelist, out, vocab_db)
    if fmt == "xlsx" or (fmt == "csv" and out is not None):
        if out is None:
            raise SndskitError("xlsx needs a file", field="--out", hint="add --out list.xlsx")
        write_codelist_table(codelist, out, fmt=fmt, sep=sep, bom=bom)
        return console.print(f"written: {out}")
    text = export_codelist(codelist, fmt, dialect=dialect, column=column, sep=sep, bom=bom)
    if out is None:
        print(text, end="")
    else:
        write_text_atomic(out, text)
        console.print(f"written: {out}")


def _export_atlas(codelist: Codelist, out: Path | None, vocab_db: Path | None) -> None:
    """ATLAS JSON with concept ids from the OMOP vocabulary; says which codes have none."""
    if vocab_db is None and not default_vocabulary_db().exists():
        err_console.print(
            "[yellow]warning:[/] aucun vocabulaire OMOP chargé : CONCEPT_ID vides, ATLAS ne "
            "pourra pas importer / no OMOP vocabulary loaded: empty CONCEPT_IDs, ATLAS cannot "
            "import them — run `sndskit omop vocab load DIR` and `sndskit omop source-concepts`"
        )
        concepts = None
    else:
        con = connect_vocabulary(vocab_db)
        try:
            concepts = find_omop_concepts(
                con,
                [e.key for e in codelist.entries]
                + [(e.vocabulary, e.code) for e in codelist.excluded],
            )
        finally:
            con.close()
        coverage = atlas_coverage(codelist, concepts)
        err_console.print(
            f"concept ids: {len(coverage['official'])} official (Athena), "
            f"{len(coverage['local'])} local (> 2,000,000,000: only in this OMOP instance), "
            f"{len(coverage['missing'])} without concept (left out)"
        )
        if coverage["local"]:
            err_console.print(
                "[yellow]local / locaux:[/] "
                + ", ".join(coverage["local"][:20])
                + (" …" if len(coverage["local"]) > 20 else "")
            )
        if coverage["missing"]:
            err_console.print(
                "[yellow]sans concept / no concept:[/] "
                + ", ".join(coverage["missing"])
                + " — run `sndskit omop source-concepts`"
            )
    text = export_codelist(codelist, "atlas", concepts=concepts)
    if out is None:
        print(text, end="")
    else:
        write_text_atomic(out, text)
        console.print(f"written: {out}")


@app.command("import")
def import_command(
    source: Annotated[
        Path,
        typer.Argument(help="CSV (vocabulary,code[,label]; `,` `;` or tab) or ATLAS JSON."),
    ],
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


OutOption = Annotated[
    Path | None,
    typer.Option("-o", "--out", help="Also write the table (.csv or .xlsx), counts masked."),
]


def _write_masked(
    out: Path, rows: list[dict], columns: list[str], threshold: int, sep: str, bom: bool
) -> None:
    """The table as printed (small counts shown as 1-10 / masked) in a CSV or XLSX file."""
    values = [
        [
            *(row[c] for c in columns),
            *(MASK if row["masked"] else row[c] for c in ("records", "persons")),
        ]
        for row in rows
    ]
    write_table(
        out, [*columns, "records", "persons"], values, fmt=format_for(out), sep=sep, bom=bom
    )
    err_console.print(f"written: {out}")


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
    out: OutOption = None,
    sep: SepOption = ",",
    bom: BomOption = False,
) -> None:
    """Codes in the data related to the list (hierarchy, same substance or ATC class) but
    not in it, most frequent first."""
    check_threshold_option(threshold, unsafe_threshold)
    rows = find_orphans(
        load_codelist(codelist_file),
        open_data(data),
        limit=limit,
        threshold=threshold,
        unsafe_threshold=unsafe_threshold,
    )
    if out is not None:
        _write_masked(out, rows, ["vocabulary", "code", "label", "reason"], threshold, sep, bom)
    if json_output:
        return _json(rows, threshold)
    if not rows:
        return console.print(
            "aucun code apparenté à la liste (hiérarchie, substance, classe ATC) absent de la "
            "liste n'apparaît dans les données / no code related to the list (hierarchy, "
            "substance, ATC class) and missing from it occurs in the data"
        )
    console.print(
        _masked_table(rows, ["vocabulary", "code", "label", "reason"], threshold, "orphan codes")
    )
