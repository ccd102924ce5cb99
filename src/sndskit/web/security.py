"""Request checks: access token off loopback, Host and Origin checks, CSRF, safe headers.

- **Token**: when the app listens beyond loopback, every request carries the token (first
  as ``?token=…`` in the printed URL, then as a cookie, or as ``Authorization: Bearer``).
- **Host**: only the configured host names are served (defeats DNS rebinding on loopback).
- **CSRF** (double submit): a random ``sndskit_csrf`` cookie (SameSite=Strict) must be sent
  back in the ``X-CSRF-Token`` header (htmx) or the ``csrf_token`` form field on every
  POST; a POST from another origin is refused before that.
"""

from __future__ import annotations

import hmac
import secrets
import time
from urllib.parse import urlsplit

from fastapi import Request
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import PlainTextResponse, Response

from sndskit.web.i18n import pick_language, translate
from sndskit.web.settings import WebSettings

CSRF_COOKIE = "sndskit_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
TOKEN_COOKIE = "sndskit_token"
LANG_COOKIE = "sndskit_lang"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


class SecurityMiddleware(BaseHTTPMiddleware):
    def __init__(self, app, settings: WebSettings, allowed_hosts: set[str]) -> None:
        super().__init__(app)
        self.settings = settings
        self.allowed_hosts = allowed_hosts

    def _refuse(self, request: Request, status: int, key: str) -> Response:
        lang = pick_language(request.cookies.get(LANG_COOKIE))
        return PlainTextResponse(translate(key, lang), status_code=status)

    async def dispatch(self, request: Request, call_next) -> Response:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip("[]")
        if "*" not in self.allowed_hosts and host not in self.allowed_hosts:
            return self._refuse(request, 400, "error.host")
        token = self.settings.token
        new_token = None
        if token:
            offered = request.query_params.get("token")
            auth = request.headers.get("authorization", "")
            bearer = auth[7:] if auth.lower().startswith("bearer ") else None
            if _same(offered, token):
                new_token = token
            elif not (_same(request.cookies.get(TOKEN_COOKIE), token) or _same(bearer, token)):
                return self._refuse(request, 401, "error.token")
        if request.method not in SAFE_METHODS:
            origin = request.headers.get("origin")
            if origin and urlsplit(origin).netloc != request.headers.get("host"):
                return self._refuse(request, 403, "error.origin")
        csrf = request.cookies.get(CSRF_COOKIE)
        fresh = csrf is None or len(csrf) < 20
        request.state.csrf = secrets.token_urlsafe(24) if fresh else csrf
        request.state.lang = pick_language(request.cookies.get(LANG_COOKIE))
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if fresh:
            response.set_cookie(CSRF_COOKIE, request.state.csrf, httponly=True, samesite="strict")
        if new_token:
            response.set_cookie(TOKEN_COOKIE, new_token, httponly=True, samesite="strict")
        return response


async def check_csrf(request: Request) -> None:
    """FastAPI dependency of every POST route: the CSRF cookie echoed by the client."""
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        sent = form.get(CSRF_FIELD)
    if not _same(cookie, sent if isinstance(sent, str) else None):
        raise CsrfError("missing or wrong CSRF token")


class CsrfError(Exception):
    """A POST without the CSRF token of this browser session (answered 403)."""
