"""The dossier skeleton: the protocol's "Données requises" section, the summary fields and
the list of documents to gather for the route (present/missing when a folder is given)."""

from __future__ import annotations

from pathlib import Path

from sndskit.access.documents import match_documents
from sndskit.access.edb import Edb
from sndskit.access.render import (
    rows_csv,
    section_components,
    section_data,
    section_identifiers,
    section_periods,
    section_population,
    sep,
)
from sndskit.access.rules import check_language, get_documents, get_purposes, get_route, label
from sndskit.access.word import write_markdown_docx
from sndskit.io import write_text_atomic


def required_documents(edb: Edb, folder: Path | None = None) -> list[dict[str, str]]:
    """The documents of the study's route, each with its status and the files found."""
    spec = edb.spec
    found = match_documents(folder) if folder is not None else None
    rows = []
    for key, doc in get_documents()["documents"].items():
        if spec.route not in doc["routes"]:
            continue
        if doc.get("only_with_design_office") and spec.design_office is None:
            continue
        files = [p.name for p in found[key]] if found is not None else []
        status = "unchecked" if found is None else ("present" if files else "missing")
        rows.append(
            {
                "id": key,
                "fr": doc["fr"],
                "en": doc["en"],
                "status": status,
                "files": "; ".join(files),
            }
        )
    return rows


def render_required_data(edb: Edb, lang: str = "fr") -> str:
    """Section 3.1 of the protocol, « Données requises »."""
    lines = [f"# {label('required_data', lang)}", "", label("required_data_intro", lang), ""]
    lines += (
        section_components(edb, lang) + section_population(edb, lang) + section_periods(edb, lang)
    )
    lines += section_data(edb, lang) + section_identifiers(edb, lang)
    return "\n".join(lines).rstrip() + "\n"


def _flat(text: str) -> str:
    return " ".join(text.split())


def render_summary_fields(edb: Edb, lang: str = "fr") -> str:
    spec, s = edb.spec, sep(lang)
    category = get_purposes()["categories"][spec.purpose.category][lang]
    lines = [
        f"# {label('summary_fields', lang)}",
        "",
        f"- **{label('title', lang)}**{s}{spec.title}",
        f"- **{label('route', lang)}**{s}{get_route(spec.route)[lang]}",
        f"- **{label('controllers', lang)}**{s}{', '.join(c.name for c in spec.controllers)}",
        f"- **{label('implementer', lang)}**{s}{spec.implementer.name}",
        f"- **{label('purpose', lang)}**{s}{category} — {_flat(spec.purpose.description)}",
        f"- **{label('public_interest', lang)}**{s}{_flat(spec.purpose.public_interest)}",
        f"- **{label('objectives', lang)}**{s}",
        *[f"  - {o.id}{s}{o.text}" for o in spec.objectives],
        f"- **{label('targeting_period', lang)}**{s}{spec.targeting_period.start} → "
        f"{spec.targeting_period.end}",
        f"- **{label('components', lang)[3:]}**{s}{', '.join(edb.components())}",
        f"- **{label('data_span', lang)}**{s}{edb.first_year()}–{edb.last_year()}",
        f"- **{label('access_duration', lang)}**{s}{spec.access_duration_years:g} "
        f"{label('years_unit', lang)}",
        f"- **{label('environment', lang)}**{s}{label(spec.environment, lang)}",
    ]
    return "\n".join(lines) + "\n"


def render_documents(rows: list[dict[str, str]], lang: str = "fr") -> str:
    head = f"| {label('document', lang)} | {label('status', lang)} | files |"
    lines = [f"# {label('documents', lang)}", "", head, "|---|---|---|"]
    lines += [f"| {r[lang]} | {label(r['status'], lang)} | {r['files']} |" for r in rows]
    return "\n".join(lines) + "\n"


def export_dossier(
    edb: Edb, out: Path, documents: Path | None = None, lang: str = "fr"
) -> list[Path]:
    """Write ``donnees_requises.md`` (and ``.docx``, for the protocol), ``resume.md``,
    ``pieces.md`` and ``pieces.csv``."""
    check_language(lang)
    out = Path(out)
    rows = required_documents(edb, documents)
    required = render_required_data(edb, lang)
    title = f"{label('required_data', lang)} — {edb.spec.title}"
    return [
        write_text_atomic(out / "donnees_requises.md", required),
        write_markdown_docx(required, out / "donnees_requises.docx", title, lang),
        write_text_atomic(out / "resume.md", render_summary_fields(edb, lang)),
        write_text_atomic(out / "pieces.md", render_documents(rows, lang)),
        write_text_atomic(
            out / "pieces.csv", rows_csv(rows, ("id", "fr", "en", "status", "files"))
        ),
    ]
