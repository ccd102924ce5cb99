"""Command-line interface: thin wrappers over library functions.

Every command catches :class:`~sndskit.errors.SndskitError` and prints it as one clear
line on stderr (exit code 2), never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import click
import typer
from typer.core import TyperGroup

from sndskit import __version__
from sndskit.cli.render import err_console
from sndskit.errors import SndskitError

# command → (module of sndskit.cli, attribute): imported on first use only, so that a quick
# command (`cohort sql`, `version`) does not pay for SciPy, FastAPI or Spark.
COMMANDS = {
    "data": ("data", "app"),
    "catalog": ("catalog", "app"),
    "codes": ("codes", "app"),
    "codelist": ("codelist", "app"),
    "cohort": ("cohort", "app"),
    "omop": ("omop", "app"),
    "synth": ("synth", "app"),
    "access": ("access", "app"),
    "registry": ("access", "registry_app"),
    "algo": ("algorithms", "app"),
    "export": ("export", "app"),
    "web": ("web", "web_command"),
}


class _LazyGroup(TyperGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMANDS, *super().list_commands(ctx)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return super().get_command(ctx, name)
        module, attribute = COMMANDS[name]
        target = getattr(importlib.import_module(f"sndskit.cli.{module}"), attribute)
        if isinstance(target, typer.Typer):  # a group, even with a single subcommand
            command = typer.main.get_group(target)
        else:  # a single command (a function)
            single = typer.Typer()
            single.command(name)(target)
            command = typer.main.get_command(single)
        command.name = name
        return command


app = typer.Typer(
    cls=_LazyGroup,
    no_args_is_help=True,
    help="sndskit — the SNDS and OMOP-CDM study toolkit (catalogue, codes, cohorts, access).",
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """sndskit — the SNDS and OMOP-CDM study toolkit (catalogue, codes, cohorts, access)."""


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
