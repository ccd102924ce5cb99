"""The FastAPI application: routers, security middleware, error pages, static files."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from sndskit.errors import SndskitError
from sndskit.web import catalog_pages, codelist_pages, codes_pages, cohort_pages, omop_pages
from sndskit.web.i18n import LANGUAGES
from sndskit.web.jobs import JobRegistry
from sndskit.web.pages import is_htmx, render, settings_of, with_store
from sndskit.web.security import LANG_COOKIE, CsrfError, SecurityMiddleware
from sndskit.web.settings import WebSettings

log = logging.getLogger("sndskit.web")
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The web app for ``settings`` (default: the store of ``$SNDSKIT_HOME``, no data).

    >>> app = create_app(WebSettings(workspace=__import__("tempfile").mkdtemp()))
    >>> app.url_path_for("home"), app.url_path_for("concept_page")
    ('/', '/codes/concept')
    """
    settings = settings or WebSettings()
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, title="sndskit")
    app.state.settings = settings
    app.state.jobs = JobRegistry()
    hosts = set(LOOPBACK_NAMES)
    if settings.host not in ("0.0.0.0", "::"):
        hosts.add(settings.host)
    else:
        hosts = {"*"}
    app.add_middleware(SecurityMiddleware, settings=settings, allowed_hosts=hosts)
    app.mount(
        "/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static"
    )
    for module in (catalog_pages, codes_pages, codelist_pages, cohort_pages, omop_pages):
        app.include_router(module.router)
    _add_handlers(app)

    @app.get("/")
    def home(request: Request):
        from sndskit.catalog import get_catalog

        catalog = with_store(get_catalog, settings_of(request).store)
        return render(request, "home.html", catalog=catalog)

    @app.get("/lang/{lang}")
    def set_language(lang: str, next: str = "/"):
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        if lang in LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, samesite="strict", max_age=3600 * 24 * 365)
        return response

    return app


def _error(request: Request, status: int, **context):
    """The error page, or only its message for an htmx request (swapped in place)."""
    template = "error_fragment.html" if is_htmx(request) else "error.html"
    return render(request, template, status=status, **{"message": None, "key": None, **context})


def _add_handlers(app: FastAPI) -> None:
    """Errors are pages with a message, in the user's language; never a traceback."""

    @app.exception_handler(SndskitError)
    async def sndskit_error(request: Request, exc: SndskitError):
        return _error(request, 400, message=exc.render())

    @app.exception_handler(CsrfError)
    async def csrf_error(request: Request, exc: CsrfError):
        return _error(request, 403, key="error.csrf")

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) for e in exc.errors())
        return _error(request, 422, key="error.request", detail=fields)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        key = "error.not_found" if exc.status_code == 404 else "error.request"
        return _error(request, exc.status_code, key=key)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.exception("internal error on %s", request.url.path)
        return _error(request, 500, key="error.internal")
