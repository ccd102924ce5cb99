"""`sndskit access …` (EDB, dossier, review) and `sndskit registry …` (project directory)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sndskit.cli.render import console, err_console, print_json

app = typer.Typer(
    no_args_is_help=True,
    help="Access requests: the EDB from the study, the dossier and an automatic review.",
)
StudyArg = Annotated[Path, typer.Argument(help="Study spec (YAML).")]
OutOption = Annotated[Path, typer.Option("--out", help="Output folder.")]
LangOption = Annotated[str, typer.Option(help="fr (default) or en.")]
DocumentsOption = Annotated[
    Path | None, typer.Option(help="Folder of the dossier's documents (present/missing).")
]


def _edb(study: Path):
    from sndskit.access.edb import build_edb
    from sndskit.access.spec import load_study

    return build_edb(load_study(study))


@app.command("edb")
def edb_command(study: StudyArg, out: OutOption, lang: LangOption = "fr") -> None:
    """Write the EDB (edb.md, .html, .docx, .xlsx, edb_variables.csv) derived from the study."""
    from sndskit.access.render import export_edb

    edb = _edb(study)
    written = export_edb(edb, out, lang)
    table = Table("component", "tables", "variables", title=f"EDB — {edb.spec.title}")
    for component, tables in edb.components().items():
        count = sum(len(t.variables) for t in tables)
        table.add_row(component, ", ".join(t.name for t in tables), str(count))
    console.print(table)
    flagged = edb.identifying()
    if flagged:
        err_console.print(f"potential identifiers: {', '.join(sorted(flagged))}")
    console.print("written: " + ", ".join(str(p) for p in written))


@app.command("dossier")
def dossier_command(
    study: StudyArg, out: OutOption, documents: DocumentsOption = None, lang: LangOption = "fr"
) -> None:
    """Write the dossier skeleton: required data section (MD, DOCX), summary, documents list."""
    from sndskit.access.dossier import export_dossier, required_documents

    edb = _edb(study)
    written = export_dossier(edb, out, documents, lang)
    for row in required_documents(edb, documents):
        console.print(f"{row['status']:>9}  {row[lang]}")
    console.print("written: " + ", ".join(str(p) for p in written))


@app.command("review")
def review_command(
    target: Annotated[
        Path, typer.Argument(help="Study spec (YAML), or a folder holding study.yaml.")
    ],
    out: OutOption,
    documents: DocumentsOption = None,
    lang: LangOption = "fr",
    json_output: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """Review the request; writes review.md and review.json; exit code 1 when it fails."""
    from sndskit.access.review import render_review_markdown, review_edb
    from sndskit.errors import SndskitError
    from sndskit.io import write_json_atomic, write_text_atomic

    study = target
    if target.is_dir():
        study = target / "study.yaml"
        documents = documents or target
        if not study.is_file():
            raise SndskitError("no study.yaml in this folder", file=target)
    edb = _edb(study)
    review = review_edb(edb, documents, lang)
    write_text_atomic(out / "review.md", render_review_markdown(review, edb.spec.title))
    write_json_atomic(out / "review.json", review.to_json())
    if json_output:
        print_json(review.to_json())
    else:
        table = Table("severity", "check", "finding", title=f"review — {edb.spec.title}")
        for f in review.findings:
            table.add_row(f.severity, f.check, f.message)
        console.print(table)
        console.print("PASS" if review.passed else "FAIL")
    raise typer.Exit(0 if review.passed else 1)


registry_app = typer.Typer(
    no_args_is_help=True,
    help="Project registry (public directory): add, update, show, list, export, import.",
)
UrlOption = Annotated[
    str | None,
    typer.Option(help="SQLAlchemy URL (default: SQLite in SNDSKIT_HOME; SNDSKIT_REGISTRY_URL)."),
]
ByOption = Annotated[str | None, typer.Option("--by", help="Who makes the change (default $USER).")]


def _registry(url: str | None):
    from sndskit.access.registry import Registry

    return Registry(url)


def _who(by: str | None) -> str:
    import os

    return by or os.environ.get("USER") or "sndskit"


def _value(field: str, raw: str):
    from sndskit.access.registry_model import LIST_FIELDS, ProjectRecord

    if raw.startswith(("[", "{")):
        return json.loads(raw)
    if field in LIST_FIELDS:
        return [v.strip() for v in raw.split(";") if v.strip()]
    info = ProjectRecord.model_fields.get(field)
    if raw == "" and info is not None and info.default is None:
        return None
    return raw


def _pairs(items: list[str], option: str) -> dict[str, str]:
    from sndskit.errors import SndskitError

    out = {}
    for item in items:
        field, sep, raw = item.partition("=")
        if not sep:
            raise SndskitError(f"expected FIELD=VALUE, got {item!r}", field=option)
        out[field.strip()] = raw
    return out


@registry_app.command("add")
def registry_add(
    study: StudyArg,
    reference: Annotated[str | None, typer.Option(help="Default: the study's reference.")] = None,
    url: UrlOption = None,
    by: ByOption = None,
) -> None:
    """Add a project pre-filled from a study spec and its EDB."""
    from sndskit.access.registry_io import dump_record, record_from_study

    record = _registry(url).add(record_from_study(_edb(study), reference), by=_who(by))
    print(dump_record(record))


@registry_app.command("update")
def registry_update(
    reference: Annotated[str, typer.Argument(help="Project reference.")],
    set_: Annotated[
        list[str], typer.Option("--set", help="FIELD=VALUE (lists: a;b or JSON).")
    ] = [],  # noqa: B006 — typer reads the default
    add: Annotated[list[str], typer.Option("--add", help="FIELD=VALUE appended to a list.")] = [],  # noqa: B006
    expected_version: Annotated[
        int | None, typer.Option(help="Refuse if the project is no longer at this version.")
    ] = None,
    url: UrlOption = None,
    by: ByOption = None,
) -> None:
    """Change fields or stages of a project (history keeps who changed what, when)."""
    from sndskit.access.registry_io import dump_record

    values = {k: _value(k, v) for k, v in _pairs(set_, "--set").items()}
    appended = {k: _value(k, v) for k, v in _pairs(add, "--add").items()}
    appended = {k: v if isinstance(v, list) else [v] for k, v in appended.items()}
    record = _registry(url).update(
        reference,
        by=_who(by),
        set_values=values,
        append=appended,
        expected_version=expected_version,
    )
    print(dump_record(record))


@registry_app.command("show")
def registry_show(
    reference: Annotated[str, typer.Argument(help="Project reference.")],
    url: UrlOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="JSON with the history.")] = False,
) -> None:
    """A project and the history of its changes."""
    registry = _registry(url)
    record, history = registry.get(reference), registry.history(reference)
    if json_output:
        return print_json({"project": record.model_dump(mode="json"), "history": history})
    table = Table("field", "value", title=f"{record.reference} (version {record.version})")
    for name, value in record.model_dump(mode="json").items():
        table.add_row(
            name, "" if value in (None, "", []) else json.dumps(value, ensure_ascii=False)
        )
    console.print(table)
    changes = Table("version", "when", "who", "field", "old", "new", title="history")
    for h in history:
        changes.add_row(
            str(h["version"]),
            str(h["changed_at"])[:19],
            h["changed_by"],
            h["field"],
            h["old_value"] or "",
            h["new_value"] or "",
        )
    console.print(changes)


@registry_app.command("list")
def registry_list(
    route: Annotated[str | None, typer.Option(help="Only this legal route.")] = None,
    url: UrlOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """The projects of the registry."""
    records = _registry(url).list_projects(route)
    if json_output:
        return print_json([r.model_dump(mode="json") for r in records])
    table = Table("reference", "title", "route", "filed", "CNIL", "version")
    for r in records:
        table.add_row(
            r.reference, r.title, r.route, str(r.filed_on or ""), r.cnil_number, str(r.version)
        )
    console.print(table)


@registry_app.command("export")
def registry_export(
    out: Annotated[Path, typer.Option("--out", help="Output file.")],
    fmt: Annotated[str, typer.Option("--format", help="csv, xlsx or json.")] = "csv",
    lang: LangOption = "fr",
    url: UrlOption = None,
) -> None:
    """Export the projects with the columns of the public directory."""
    from sndskit.access.registry_io import export_registry

    records = _registry(url).list_projects()
    console.print(f"written: {export_registry(records, fmt, out, lang)} ({len(records)} projects)")


@registry_app.command("import")
def registry_import(
    path: Annotated[Path, typer.Argument(help="Directory export (.csv or .xlsx).")],
    url: UrlOption = None,
    by: ByOption = None,
) -> None:
    """Import a directory export: every bad row is reported and nothing is imported."""
    from sndskit.access.registry_io import import_records, read_directory_export

    records = read_directory_export(path)
    counts = import_records(_registry(url), records, by=_who(by))
    console.print(f"added {counts['added']}, updated {counts['updated']}")
