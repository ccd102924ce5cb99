"""The access rules as data: routes, potential identifiers, purposes, documents, texts.

Every file lives in ``src/sndskit/resources/access/`` with its source cited in its header.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import Any

import yaml

from sndskit.errors import SndskitError

LANGUAGES = ("fr", "en")


def _text(name: str) -> str:
    return (resources.files("sndskit") / "resources" / "access" / name).read_text(encoding="utf-8")


@cache
def _yaml(name: str) -> dict[str, Any]:
    return yaml.safe_load(_text(name))


def get_routes() -> dict[str, dict[str, Any]]:
    return _yaml("routes.yaml")["routes"]


def get_route(route: str) -> dict[str, Any]:
    routes = get_routes()
    if route not in routes:
        raise SndskitError(f"unknown route {route!r}", field="route", allowed=list(routes))
    return routes[route]


@cache
def identifying_columns() -> dict[str, dict[str, str]]:
    """Column name → {kind, degradation_column, source}: potentially identifying variables."""
    rows = csv.DictReader(_text("identifying_variables.csv").splitlines())
    return {r["column"].upper(): r for r in rows}


def identifier_kinds() -> dict[str, dict[str, str]]:
    return _yaml("identifier_kinds.yaml")


def get_purposes() -> dict[str, Any]:
    return _yaml("purposes.yaml")


def get_documents() -> dict[str, Any]:
    return _yaml("documents.yaml")


def get_registry_columns() -> list[dict[str, str]]:
    return _yaml("registry_columns.yaml")["columns"]


def get_checks() -> dict[str, dict[str, Any]]:
    return _yaml("checks.yaml")["checks"]


def label(key: str, lang: str) -> str:
    """A user-facing text of the access outputs in ``lang`` (fr or en)."""
    check_language(lang)
    return _yaml("labels.yaml")[key][lang]


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise SndskitError(f"unknown language {lang!r}", field="lang", allowed=LANGUAGES)
    return lang
