"""Code-list builder: rules form, live preview with provenance, freeze, diff, exports,
usage and orphans on the configured data (masked)."""

from __future__ import annotations

import functools
import secrets
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.responses import HTMLResponse

from sndskit.codelists.diagnostics import find_orphans, summarise_usage
from sndskit.codelists.diff import diff_codelists
from sndskit.codelists.export import DIALECTS, FORMATS, export_codelist
from sndskit.codelists.library import get_library_spec, list_library
from sndskit.codelists.model import Codelist, load_codelist, save_codelist
from sndskit.codelists.resolve import build_codelist
from sndskit.codelists.spec import CodelistSpec, Rule
from sndskit.errors import SndskitError
from sndskit.terminology import VOCABULARIES
from sndskit.web.codelist_forms import RULE_KINDS, form_values, spec_from_form
from sndskit.web.pages import check_choice, redirect, render, settings_of, with_store
from sndskit.web.security import check_csrf

router = APIRouter(prefix="/codelists")
MEDIA = {
    "csv": ("text/csv", "csv"),
    "json": ("application/json", "json"),
    "atlas": ("application/json", "atlas.json"),
    "sql": ("text/plain", "sql"),
    "markdown": ("text/markdown", "md"),
}
PREVIEW_ROWS = 500


@functools.cache
def curated_lists() -> tuple[CodelistSpec, ...]:
    """The curated specs shipped in the package (read once: they do not change at run time)."""
    return tuple(list_library())


def library_names() -> list[str]:
    return [spec.name for spec in curated_lists()]


def _library_spec(name: str) -> CodelistSpec:
    return get_library_spec(check_choice(name, library_names(), "from"))


def load_saved(request: Request, name: str) -> Codelist:
    path = settings_of(request).codelist_path(name)
    if not path.exists():
        raise SndskitError(
            f"no saved code list {name!r}",
            field="codelist",
            allowed=settings_of(request).saved_codelists(),
        )
    return load_codelist(path)


@router.get("")
def index_page(request: Request):
    return render(
        request,
        "codelists.html",
        saved=[(n, load_saved(request, n)) for n in settings_of(request).saved_codelists()],
        library=curated_lists(),
    )


def _added_spec(add: str) -> CodelistSpec:
    """A one-rule spec holding the code the user clicked "add to code list" on."""
    vocabulary, _, code = add.partition(":")
    rule = Rule(id="codes", vocabulary=vocabulary, codes=[code])
    return CodelistSpec(
        name="new_list", description="", vocabularies=[rule.vocabulary], rules=[rule]
    )


@router.get("/new")
def builder_page(request: Request, add: str = "", base: str = "", edit: str = ""):
    """The builder, empty, from a library list (``base``), a saved list (``edit``) or with
    one code added from the codes pages (``add=CIM10:I63``)."""
    spec = None
    if base:
        spec = _library_spec(base)
    elif edit:
        spec = load_saved(request, edit).spec
    if add:
        added = _added_spec(add)
        if spec is None:
            spec = added
        else:
            rule = added.rules[0].model_copy(update={"id": f"added_{len(spec.rules) + 1}"})
            data = spec.model_dump(exclude_none=True)
            data["rules"].append(rule.model_dump(exclude_none=True))
            data["vocabularies"] = sorted({*spec.vocabularies, rule.vocabulary})
            spec = CodelistSpec.model_validate(data)
    return render(
        request,
        "codelist_builder.html",
        vocabularies=VOCABULARIES,
        kinds=RULE_KINDS,
        **form_values(spec),
    )


@router.get("/rule")
def rule_row(request: Request) -> HTMLResponse:
    """An empty rule row appended by the "add a rule" button."""
    rule = {"id": "", "vocabulary": "CIM10", "kind": "terms", "values": ""}
    return render(
        request,
        "codelist_rule.html",
        rule=rule,
        key=secrets.token_hex(3),
        vocabularies=VOCABULARIES,
        kinds=RULE_KINDS,
    )


@router.get("/rule/remove")
def remove_rule() -> HTMLResponse:
    return HTMLResponse("")


@router.post("/preview", dependencies=[Depends(check_csrf)])
async def preview(request: Request):
    """Live preview: the resolved codes with their provenance, or the spec's error."""
    form = await request.form()
    context: dict[str, Any] = {"codelist": None, "error": None, "yaml": ""}
    try:
        spec, context["yaml"] = spec_from_form(form)
        context["codelist"] = with_store(build_codelist, spec, store=settings_of(request).store)
    except SndskitError as exc:
        context["error"] = exc.render()
    return render(request, "codelist_preview.html", limit=PREVIEW_ROWS, **context)


@router.post("/freeze", dependencies=[Depends(check_csrf)])
async def freeze(request: Request):
    """Resolve and save the list as ``<name>-v<version>``; a frozen version is never
    overwritten (change the version to freeze again)."""
    form = await request.form()
    spec, _ = spec_from_form(form)
    name = f"{spec.name}-v{spec.version}".lower()
    path = settings_of(request).codelist_path(name)
    if path.exists():
        raise SndskitError(
            f"{name} is already frozen: change the version to freeze a new one", field="version"
        )
    save_codelist(with_store(build_codelist, spec, store=settings_of(request).store), path)
    return redirect(request, f"/codelists/view/{name}")


@router.get("/view/{name}")
def saved_page(request: Request, name: str):
    codelist = load_saved(request, name)
    others = [n for n in settings_of(request).saved_codelists() if n != name]
    return render(
        request,
        "codelist_view.html",
        name=name,
        codelist=codelist,
        others=others,
        formats=FORMATS,
        dialects=DIALECTS,
        data_names=list(settings_of(request).data_dirs),
        limit=PREVIEW_ROWS,
    )


@router.get("/view/{name}/export")
def export(request: Request, name: str, fmt: str = "csv", dialect: str = "duckdb"):
    check_choice(fmt, FORMATS, "fmt")
    check_choice(dialect, DIALECTS, "dialect")
    text = export_codelist(load_saved(request, name), fmt, dialect=dialect)
    media, suffix = MEDIA[fmt]
    filename = f"{name}.{dialect}.{suffix}" if fmt == "sql" else f"{name}.{suffix}"
    return Response(
        text,
        media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/view/{name}/diff")
def diff_page(request: Request, name: str, other: str):
    diff = diff_codelists(load_saved(request, other), load_saved(request, name))
    return render(request, "codelist_diff.html", diff=diff, name=name, other=other)


@router.get("/view/{name}/usage")
def usage_page(request: Request, name: str, data: str):
    """Records and persons per code and year, and orphan codes — masked by the library."""
    settings = settings_of(request)
    codelist = load_saved(request, name)
    folder = settings.open_data(data)
    threshold = settings.threshold
    usage = with_store(summarise_usage, codelist, folder, threshold=threshold)
    orphans = with_store(
        find_orphans, codelist, folder, store=settings.store, limit=30, threshold=threshold
    )
    return render(request, "codelist_usage.html", usage=usage, orphans=orphans, data=data)
