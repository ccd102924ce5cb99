"""Command-line interface: thin wrappers over library functions.

Every command catches :class:`~sndskit.errors.SndskitError` and prints it as one clear
line on stderr (exit code 2), never a traceback.
"""

from __future__ import annotations

import sys

import typer

from sndskit import __version__
from sndskit.cli import access, algorithms, catalog, codelist, codes, cohort, data, omop, synth, web
from sndskit.cli.render import err_console
from sndskit.errors import SndskitError

app = typer.Typer(
    no_args_is_help=True,
    help="sndskit — the SNDS and OMOP-CDM study toolkit (catalogue, codes, cohorts, access).",
    pretty_exceptions_enable=False,
)
app.add_typer(data.app, name="data")
app.add_typer(catalog.app, name="catalog")
app.add_typer(codes.app, name="codes")
app.add_typer(codelist.app, name="codelist")
app.add_typer(cohort.app, name="cohort")
app.add_typer(omop.app, name="omop")
app.add_typer(synth.app, name="synth")
app.add_typer(access.app, name="access")
app.add_typer(access.registry_app, name="registry")
app.add_typer(algorithms.app, name="algo")
app.command("web")(web.web_command)


@app.command()
def version() -> None:
    """Print the sndskit version."""
    typer.echo(__version__)


def main() -> None:
    """Entry point: usage errors are typer's; sndskit errors are one line, exit code 2."""
    try:
        app()
    except SndskitError as exc:
        err_console.print(f"[bold red]error:[/] {exc.render()}", highlight=False, markup=True)
        sys.exit(2)
