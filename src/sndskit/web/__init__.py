"""The local web app: every capability of sndskit for people who do not program.

FastAPI + Jinja2 templates + htmx (vendored, no build step). The web layer is thin: each
page calls library functions and renders their answers; counts go through
:mod:`sndskit.web.disclosure`. Start it with ``sndskit web``.
"""

from sndskit.web.app import create_app
from sndskit.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
