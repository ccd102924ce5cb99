"""The EDB written from one data model: Markdown, HTML, DOCX, XLSX (one sheet per component),
CSV.

French by default, English on request (``lang="en"``). Every file is written atomically.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sndskit.access.edb import Edb, EdbTable, EdbVariable
from sndskit.access.rules import check_language, get_purposes, get_route, identifier_kinds, label
from sndskit.access.word import write_markdown_docx
from sndskit.codelists.export import export_codelist
from sndskit.codelists.model import Codelist
from sndskit.io import atomic_path, write_text_atomic

COLUMNS = ("component", "table", "variable", "label", "years", "justification", "identifier")


def sep(lang: str) -> str:
    """French typography puts a space before a colon.

    >>> "objectif O1" + sep("fr") + "…", "objective O1" + sep("en") + "…"
    ('objectif O1 : …', 'objective O1: …')
    """
    return " : " if lang == "fr" else ": "


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def years_text(table: EdbTable, lang: str) -> str:
    if table.yearly and table.years:
        first, last = min(table.years), max(table.years)
        names = table.physical_names()
        return f"{first}–{last} ({names[0]} … {names[-1]})" if first != last else names[0]
    if table.flux:
        start, end = table.flux
        return f"{label('flux', lang)} {start:%m/%Y} → {end:%m/%Y}"
    return label("reference_table", lang)


def reasons_text(variable: EdbVariable, lang: str) -> str:
    parts = []
    for reason in variable.reasons:
        if reason.kind == "cohort":
            step = reason.detail.split(" — ")[0]
            parts.append(f"{label('cohort', lang)} {reason.ref}, {label('step', lang)} {step}")
        elif reason.kind == "link":
            parts.append(f"{label('link', lang)}{sep(lang)}{reason.detail}")
        elif reason.ref:
            parts.append(
                f"{label('objective', lang)} {reason.ref}{sep(lang)}{reason.detail}".strip()
            )
        else:
            parts.append(f"{label('no_objective', lang)}{sep(lang)}{reason.detail}".strip())
    return " ; ".join(dict.fromkeys(parts))


def kind_text(kind: str | None, lang: str) -> str:
    return identifier_kinds()[kind][lang] if kind else ""


def edb_rows(edb: Edb, lang: str = "fr") -> list[dict[str, str]]:
    """One row per requested variable (the table of the XLSX and CSV outputs)."""
    rows = []
    for component, tables in edb.components().items():
        for table in tables:
            for variable in table.variables.values():
                rows.append(
                    {
                        "component": component,
                        "table": table.name,
                        "variable": variable.column,
                        "label": variable.label,
                        "years": years_text(table, lang),
                        "justification": reasons_text(variable, lang),
                        "identifier": kind_text(variable.identifier, lang),
                    }
                )
    return rows


def _header(edb: Edb, lang: str) -> list[str]:
    spec = edb.spec
    route = get_route(spec.route)
    controllers = ", ".join(f"{c.name} ({label('org_' + c.type, lang)})" for c in spec.controllers)
    design = spec.design_office.name if spec.design_office else label("none", lang)
    category = get_purposes()["categories"][spec.purpose.category][lang]
    return [
        f"# {label('edb_title', lang)} — {spec.title}",
        "",
        f"_{label('edb_intro', lang)}_",
        "",
        f"- {label('reference', lang)}{sep(lang)}{spec.reference or '—'}",
        f"- {label('route', lang)}{sep(lang)}{route[lang]}",
        f"- {label('purpose', lang)}{sep(lang)}{category}",
        f"- {label('controllers', lang)}{sep(lang)}{controllers}",
        f"- {label('implementer', lang)}{sep(lang)}{spec.implementer.name}",
        f"- {label('design_office', lang)}{sep(lang)}{design}",
        f"- {label('environment', lang)}{sep(lang)}{label(spec.environment, lang)}",
        f"- {label('filed_on', lang)}{sep(lang)}{spec.filed_on.isoformat()}",
        "",
    ]


def section_components(edb: Edb, lang: str) -> list[str]:
    lines = [f"## {label('components', lang)}", ""]
    lines += [f"| {label('component', lang)} | {label('tables', lang)} | {label('years', lang)} |"]
    lines += ["|---|---|---|"]
    for component, tables in edb.components().items():
        for table in tables:
            lines.append(f"| {component} | {table.name} | {years_text(table, lang)} |")
    return [*lines, ""]


def section_population(edb: Edb, lang: str) -> list[str]:
    lines = [f"## {label('population', lang)}", ""]
    for cohort in edb.cohorts:
        lines += [
            f"{label('cohort_type', lang)}{sep(lang)}{label(cohort.type, lang)} "
            f"{label('describe_note', lang)}".rstrip(),
            "",
            cohort.description.replace("## Population", "### Population"),
        ]
    return lines


def section_periods(edb: Edb, lang: str) -> list[str]:
    spec = edb.spec
    unit = label("years_unit", lang)
    period = spec.targeting_period
    return [
        f"## {label('periods', lang)}",
        "",
        f"- {label('targeting_period', lang)}{sep(lang)}{period.start} → {period.end}",
        f"- {label('historical_depth', lang)}{sep(lang)}{spec.historical_depth_years} {unit}",
        f"- {label('data_span', lang)}{sep(lang)}{edb.first_year()}–{edb.last_year()}",
        f"- {label('follow_up', lang)}{sep(lang)}{spec.follow_up_end.isoformat()}",
        f"- {label('access_duration', lang)}{sep(lang)}{spec.access_duration_years:g} {unit}",
        "",
    ]


def section_data(edb: Edb, lang: str) -> list[str]:
    lines = [f"## {label('data', lang)}", ""]
    head = ("table", "variable", "label", "years", "justification", "identifier")
    for component in edb.components():
        lines += [f"### {component}", ""]
        lines += ["| " + " | ".join(label(h, lang) for h in head) + " |", "|---" * len(head) + "|"]
        for row in edb_rows(edb, lang):
            if row["component"] == component:
                lines.append("| " + " | ".join(_cell(row[h]) for h in head) + " |")
        lines.append("")
    return lines


def section_identifiers(edb: Edb, lang: str) -> list[str]:
    declared = {i.kind: i for i in edb.spec.identifiers}
    found = edb.identifying()
    lines = [f"## {label('identifiers', lang)}", ""]
    if not found and not declared:
        return [*lines, label("none", lang), ""]
    head = ("kind", "variable", "justification", "degradation")
    lines += ["| " + " | ".join(label(h, lang) for h in head) + " |", "|---" * len(head) + "|"]
    for kind in sorted(set(found) | set(declared)):
        names = ", ".join(f"{v.table}.{v.column}" for v in found.get(kind, [])) or "—"
        entry = declared.get(kind)
        why = entry.justification if entry and entry.justification else label("not_justified", lang)
        coarser = entry.degradation if entry and entry.degradation else ""
        coarser = coarser or identifier_kinds()[kind][f"degrade_{lang}"] + " ?"
        lines.append(
            f"| {kind_text(kind, lang)} | {_cell(names)} | {_cell(why)} | {_cell(coarser)} |"
        )
    return [*lines, ""]


def _external_and_users(edb: Edb, lang: str) -> list[str]:
    spec = edb.spec
    lines = [f"## {label('external', lang)}", ""]
    for item in spec.external_data:
        keys = ", ".join(item.matching_keys) or label("none", lang)
        lines.append(
            f"- {item.name} — {item.description} ({label('matching_keys', lang)}{sep(lang)}{keys})"
        )
    if not spec.external_data:
        lines.append(label("none", lang))
    lines += ["", f"## {label('users', lang)}", ""]
    head = ("profile", "organisation", "count")
    lines += ["| " + " | ".join(label(h, lang) for h in head) + " |", "|---" * len(head) + "|"]
    lines += [f"| {_cell(u.profile)} | {_cell(u.organisation)} | {u.count} |" for u in spec.users]
    return [*lines, ""]


def codelists_of(edb: Edb) -> dict[str, Codelist]:
    """The code lists of every cohort, by name (each once)."""
    out: dict[str, Codelist] = {}
    for cohort in edb.cohorts:
        for codelist in cohort.codelists.values():
            out.setdefault(codelist.name, codelist)
    return out


def _annexes(edb: Edb) -> list[str]:
    return [export_codelist(c, "markdown") for c in codelists_of(edb).values()]


def render_edb_markdown(edb: Edb, lang: str = "fr") -> str:
    """The whole EDB as Markdown in ``lang`` (code-list annexes stay in French)."""
    check_language(lang)
    lines = _header(edb, lang) + section_components(edb, lang) + section_population(edb, lang)
    lines += section_periods(edb, lang) + section_data(edb, lang) + section_identifiers(edb, lang)
    lines += _external_and_users(edb, lang)
    lines += [f"## {label('annexes', lang)}", "", *_annexes(edb)]
    return "\n".join(lines).rstrip() + "\n"


def markdown_to_html(markdown: str, title: str, lang: str) -> str:
    from html import escape

    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark").enable("table").render(markdown)
    return (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:72em;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}</style>"
        f"</head><body>\n{body}</body></html>\n"
    )


def rows_csv(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _sheet_name(name: str, used: set[str]) -> str:
    clean = "".join("_" if c in "[]:*?/\\" else c for c in name)[:31]
    while clean in used:
        clean = clean[:28] + f"_{len(used)}"
    used.add(clean)
    return clean


def keep_text(sheet) -> None:
    """A cell text starting with "=" stays text: a spreadsheet never runs it as a formula."""
    for cells in sheet.iter_rows():
        for cell in cells:
            if cell.data_type == "f":
                cell.data_type = "s"


def write_edb_xlsx(edb: Edb, target: Path, lang: str = "fr") -> Path:
    """A summary sheet, one sheet per SNDS component, and the identifiers sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    summary = book.active
    summary.title = label("summary_sheet", lang)
    for line in _header(edb, lang)[4:] + section_periods(edb, lang)[2:]:
        if line.startswith("- "):
            key, _, value = line[2:].partition(sep(lang))
            summary.append([key, value])
    used = {summary.title}
    head = [label(h, lang) for h in COLUMNS[1:]]
    rows = edb_rows(edb, lang)
    for component in edb.components():
        sheet = book.create_sheet(_sheet_name(component, used))
        sheet.append(head)
        for row in rows:
            if row["component"] == component:
                sheet.append([row[c] for c in COLUMNS[1:]])
    sheet = book.create_sheet(_sheet_name(label("identifiers_sheet", lang), used))
    sheet.append(head)
    for row in rows:
        if row["identifier"]:
            sheet.append([row[c] for c in COLUMNS[1:]])
    for sheet in book.worksheets:
        keep_text(sheet)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    with atomic_path(target, suffix=".xlsx") as tmp:
        book.save(tmp)
    return Path(target)


def export_edb(edb: Edb, out: Path, lang: str = "fr") -> list[Path]:
    """Write ``edb.md``, ``edb.html``, ``edb.docx``, ``edb.xlsx``, ``edb_variables.csv`` and
    the code-list annexes ``codelists/NAME.csv`` into ``out``."""
    check_language(lang)
    out = Path(out)
    markdown = render_edb_markdown(edb, lang)
    title = f"{label('edb_title', lang)} — {edb.spec.title}"
    written = [
        write_text_atomic(out / "edb.md", markdown),
        write_text_atomic(out / "edb.html", markdown_to_html(markdown, title, lang)),
        write_markdown_docx(markdown, out / "edb.docx", title, lang),
        write_edb_xlsx(edb, out / "edb.xlsx", lang),
        write_text_atomic(out / "edb_variables.csv", rows_csv(edb_rows(edb, lang))),
    ]
    for name, codelist in codelists_of(edb).items():
        path = out / "codelists" / f"{name}.csv"
        written.append(write_text_atomic(path, export_codelist(codelist, "csv")))
    return written
