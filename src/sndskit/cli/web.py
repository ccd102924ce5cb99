"""`sndskit web`: the local web app (catalogue, codes, code lists, cohorts, OMOP review)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sndskit.cli.render import ThresholdOption, console
from sndskit.config import store_path
from sndskit.privacy import DEFAULT_THRESHOLD


def web_command(
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data", help="SNDS data folder or .duckdb file the app may read (repeatable)."
        ),
    ] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8765,
    host: Annotated[
        str,
        typer.Option(help="Address to listen on; beyond loopback an access token is required."),
    ] = "127.0.0.1",
    mappings: Annotated[
        Path | None, typer.Option(help="OMOP mapping store (.duckdb) for the review queue.")
    ] = None,
    vocabulary: Annotated[
        Path | None, typer.Option(help="OMOP vocabulary database (default $SNDSKIT_HOME/omop).")
    ] = None,
    threshold: ThresholdOption = DEFAULT_THRESHOLD,
) -> None:
    """Start the local web app (French first, English toggle); Ctrl-C stops it."""
    import uvicorn

    from sndskit.web import WebSettings, create_app
    from sndskit.web.settings import is_loopback

    settings = WebSettings.from_paths(
        data or [],
        store=store_path(),
        host=host,
        threshold=threshold,
        mappings=mappings,
        vocabulary=vocabulary,
    )
    app = create_app(settings)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/"
    if settings.token:
        url += f"?token={settings.token}"
    if not is_loopback(host):
        console.print(f"[yellow]listening on {host}: every request needs the token[/]")
    for name, path in settings.data_dirs.items():
        console.print(f"data [bold]{name}[/]: {path}")
    console.print(f"sndskit web: open [bold]{url}[/]  (Ctrl-C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
