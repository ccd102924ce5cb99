"""Cohort builder: a form writing the YAML, the French method text and the SQL per dialect
updating as you edit; runs on an allowed data folder in the background with progress; the
masked attrition flowchart, counts, incidence and prevalence, and their figures.
Person-level results never reach a page."""

from __future__ import annotations

import csv
import json
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from sndskit.codelists.library import get_library_spec
from sndskit.codelists.model import Codelist, load_codelist
from sndskit.codelists.resolve import build_codelist
from sndskit.cohorts.describe import describe_cohort
from sndskit.cohorts.outputs import publish_stats
from sndskit.cohorts.runner import plan_cohort, run_cohort
from sndskit.cohorts.spec import CohortSpec
from sndskit.cohorts.stats import count_rates
from sndskit.disclosure.publish import EXPORT
from sndskit.engines import DIALECTS
from sndskit.errors import SndskitError
from sndskit.snds.sources import SOURCES
from sndskit.specs import load_spec
from sndskit.web.codelist_pages import library_names
from sndskit.web.cohort_forms import N_EVENTS, N_EXCLUSIONS, form_values, spec_from_form
from sndskit.web.jobs import Job
from sndskit.web.pages import check_choice, redirect, render, settings_of, with_store
from sndskit.web.security import check_csrf

router = APIRouter(prefix="/cohorts")
FIGURES = ("attrition", "rates")
_FIGURES_LOCK = threading.Lock()
_RESOLVED: dict[tuple[str, str, int], Codelist] = {}


def _examples_dir() -> Path:
    return Path(str(resources.files("sndskit") / "resources" / "cohorts" / "examples"))


def example_names() -> list[str]:
    return sorted(p.stem for p in _examples_dir().glob("*.yaml"))


def codelist_refs(request: Request) -> list[str]:
    """What an event may name: a curated list, or a list frozen in the builder (``.json``)."""
    saved = [f"{name}.json" for name in settings_of(request).saved_codelists()]
    return [*library_names(), *saved]


def _codelists(request: Request, spec: CohortSpec) -> dict[str, Codelist]:
    """The spec's code lists; only names offered by the form are read (no client path).

    Frozen lists are read from the workspace; curated ones are resolved on the store once
    per store version and kept (the preview recompiles on every edit; resolving a drug list
    on the full store takes about a second).
    """
    allowed = codelist_refs(request)
    settings = settings_of(request)
    version = (str(settings.store), settings.store.stat().st_mtime_ns)
    out: dict[str, Codelist] = {}
    for event in spec.all_events():
        ref = event.codelist
        if not ref or ref in out:
            continue
        check_choice(ref, allowed, "codelist")
        if ref.endswith(".json"):
            out[ref] = load_codelist(settings.codelist_path(ref.removesuffix(".json")))
            continue
        key = (ref, *version)
        if key not in _RESOLVED:
            for stale in [k for k in _RESOLVED if k[1:] != version]:
                del _RESOLVED[stale]
            _RESOLVED[key] = with_store(build_codelist, get_library_spec(ref), store=settings.store)
        out[ref] = _RESOLVED[key]
    return out


@router.get("")
def builder_page(request: Request, example: str = "t2d_treated"):
    spec = load_spec(
        _examples_dir() / f"{check_choice(example, example_names(), 'example')}.yaml", CohortSpec
    )
    jobs = request.app.state.jobs.all()
    return render(
        request,
        "cohort_builder.html",
        examples=example_names(),
        example=example,
        sources=list(SOURCES),
        refs=codelist_refs(request),
        dialects=DIALECTS,
        data_names=list(settings_of(request).data_dirs),
        n_events=N_EVENTS,
        n_exclusions=N_EXCLUSIONS,
        jobs=jobs,
        saved=saved_runs(request),
        **form_values(spec),
    )


@router.post("/preview", dependencies=[Depends(check_csrf)])
async def preview(request: Request):
    """The YAML, the French method text and the SQL of the form as it stands."""
    form = await request.form()
    context: dict[str, Any] = {"error": None, "yaml": "", "method": "", "sql": ""}
    dialect = form.get("dialect", "duckdb")
    try:
        check_choice(dialect, DIALECTS, "dialect")
        spec, context["yaml"] = spec_from_form(form)
        context["method"] = describe_cohort(spec)
        context["sql"] = plan_cohort(spec, _codelists(request, spec)).to_sql(dialect)
    except SndskitError as exc:
        context["error"] = exc.render()
    return render(request, "cohort_preview.html", dialect=dialect, **context)


@router.post("/run", dependencies=[Depends(check_csrf)])
async def run(request: Request):
    """Start the run in the background and go to its page (which polls its progress)."""
    form = await request.form()
    settings = settings_of(request)
    spec, _ = spec_from_form(form)
    data = settings.open_data(str(form.get("data", "")))
    codelists = _codelists(request, spec)
    out = settings.run_path(f"{spec.name}-{time.strftime('%Y%m%d-%H%M%S')}")

    def work(job: Job) -> dict[str, Any]:
        run_cohort(
            spec,
            data,
            out,
            codelists=codelists,
            threshold=settings.threshold,
            progress=job.progress,
        )
        job.progress("rates", 1, 1)
        rates = count_rates(
            out, data, first_year=spec.period.start.year, last_year=spec.period.end.year
        )
        with _FIGURES_LOCK:  # pyplot keeps global state (the figures are drawn here)
            published = publish_stats(out, rates, data, threshold=settings.threshold)
        # Only the published (masked, audited) tables are kept for the page: never the
        # person-level table nor the unmasked attrition of ``result``.
        return {
            "attrition": published.attrition,
            "counts": published.counts,
            "rates": [r for r in published.rates if r["age_band"] != "unknown"],
            "name": spec.name,
            "run": out.name,
            "out": out / EXPORT,
        }

    job = request.app.state.jobs.start(spec.name, work)
    return redirect(request, f"/cohorts/runs/{job.id}")


@router.get("/runs/{job_id}")
def run_page(request: Request, job_id: str):
    job = request.app.state.jobs.get(job_id)
    return render(request, "cohort_run.html", job=job)


@router.get("/runs/{job_id}/{figure}.png")
def run_figure(request: Request, job_id: str, figure: str):
    """The run's attrition or rates figure (drawn from masked aggregates only)."""
    job = request.app.state.jobs.get(job_id)
    check_choice(figure, FIGURES, "figure")
    if not job.finished or job.error:
        raise SndskitError("the run has no figure yet", field="run")
    return FileResponse(job.result["out"] / f"{figure}.png", media_type="image/png")


@router.get("/runs/{job_id}/status")
def run_status(request: Request, job_id: str):
    job = request.app.state.jobs.get(job_id)
    return render(request, "cohort_status.html", job=job)


# -- runs kept on disk --------------------------------------------------------------------
def saved_runs(request: Request) -> list[str]:
    """Run folders of the workspace (newest first): they outlive the server process."""
    runs = (settings_of(request).workspace / "runs").glob(f"*/{EXPORT}/manifest.json")
    return [p.parent.parent.name for p in sorted(runs, key=lambda p: -p.stat().st_mtime)][:50]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@router.get("/saved/{name}")
def saved_run_page(request: Request, name: str):
    """A finished run read back from its releasable folder (``OUT/export``): the masked
    attrition and counts as published, the spec, the figures."""
    out = settings_of(request).run_path(name) / EXPORT
    if not (out / "manifest.json").exists():
        raise SndskitError(f"no run {name!r}", field="run", allowed=saved_runs(request))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return render(
        request,
        "cohort_saved.html",
        name=name,
        manifest=manifest,
        spec_yaml=yaml.safe_dump(manifest["spec"], allow_unicode=True, sort_keys=False),
        attrition=_csv_rows(out / "attrition.csv"),
        counts=_csv_rows(out / "counts.csv"),
        figures=[f for f in FIGURES if (out / f"{f}.png").exists()],
    )


@router.get("/saved/{name}/{figure}.png")
def saved_run_figure(request: Request, name: str, figure: str):
    figure = check_choice(figure, FIGURES, "figure")
    path = settings_of(request).run_path(name) / EXPORT / f"{figure}.png"
    if not path.exists():
        raise SndskitError(f"run {name!r} has no {figure} figure", field="figure")
    return FileResponse(path, media_type="image/png")
