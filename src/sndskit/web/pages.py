"""Rendering shared by every page: templates, language, counts, the store lock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse, RedirectResponse, Response

from sndskit.errors import SndskitError
from sndskit.web.disclosure import shown_count
from sndskit.web.i18n import LANGUAGES, translate
from sndskit.web.settings import WebSettings

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
T = TypeVar("T")

# The terminology functions share one process-wide DuckDB connection to the store; a
# DuckDB connection must not be used by two threads at once, so library calls that read
# the store are serialised here (cohort runs use their own connections, outside it).
_STORE_LOCK = threading.Lock()


def with_store(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a library function that reads the store, one thread at a time."""
    with _STORE_LOCK:
        return fn(*args, **kwargs)


def settings_of(request: Request) -> WebSettings:
    return request.app.state.settings


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` in the request's language with the shared helpers."""
    lang = getattr(request.state, "lang", "fr")
    settings = settings_of(request)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "languages": LANGUAGES,
            "t": partial(translate, lang=lang),
            "csrf": getattr(request.state, "csrf", ""),
            "settings": settings,
            "count": lambda value, masked=None: shown_count(
                value, masked, settings.threshold, lang
            ),
            "path": request.url.path,
            "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            **context,
        },
        status_code=status,
    )


def redirect(request: Request, target: str) -> Response:
    """After a POST: htmx follows ``HX-Redirect``; a plain form follows the 303."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def split_values(text: str | None) -> list[str]:
    """Items typed in a text field, one per line or separated by commas or semicolons.

    >>> split_values("E11*, E10-E14\\nI63 ;")
    ['E11*', 'E10-E14', 'I63']
    """
    if not text:
        return []
    for sep in (";", "\n"):
        text = text.replace(sep, ",")
    return [item.strip() for item in text.split(",") if item.strip()]


def check_choice(value: str, allowed, field: str) -> str:
    """``value`` if it is one of ``allowed``, else a clear error listing them."""
    if value not in allowed:
        raise SndskitError(f"unknown value {value!r}", field=field, allowed=list(allowed))
    return value
