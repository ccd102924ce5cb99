"""`sndskit access …` (EDB, dossier, review) and `sndskit registry …` (project directory)."""

from __future__ import annotations

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
    """Write the EDB (edb.md, edb.html, edb.xlsx, edb_variables.csv) derived from the study."""
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
    """Write the dossier skeleton: required data section, summary fields, documents list."""
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
