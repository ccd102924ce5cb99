"""``sndskit export check DIR``: the automatic control before files leave (MR-007 SEC-EXP-3).

Every file of DIR is read as tables — CSV/TSV, XLSX sheets, JSON (lists of records and
count-named keys), Markdown and HTML tables, the data sndskit stores in its PNGs — and checked
for: count cells of 1–threshold; totals (a row labelled total/ensemble…) that give back masked
cells; person-level files (a person or pseudonym column, one row per person); potential
identifiers (BEN_NIR_PSA, NIR_ANO_17…, exact dates of birth, care or death, commune codes,
establishment FINESS numbers). Files that fail are moved to a quarantine folder; files sndskit
did not write (not listed with their SHA-256 in an EXPORT.md) are flagged for manual review.
Works on any tool's output (a CSV from SAS or R).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from sndskit.disclosure.publish import EXPORT_MD, listed_hashes, read_png_data, sha256
from sndskit.disclosure.threshold import DEFAULT_THRESHOLD, is_small, threshold_note
from sndskit.io import write_json_atomic, write_text_atomic

COUNT = re.compile(
    r"^(n|nb|nb_.*|n_.*|.*count.*|.*persons?|patients?|.*effectif.*|cases|incident|prevalent|"
    r"population|records|.*freq.*|numerator|denominator|nombre.*|.*beneficiaires?|total)$",
    re.I,
)
IDENTIFIER = re.compile(
    r"^(ben_nir_psa|nir_ano_17|ben_nir_ano|ben_nir_idt|nir|nir_ano|ben_idt_ano|num_enq)$", re.I
)
PERSON = re.compile(
    r"^(person_id|patient_id|id_patient|pseudonym|pseudonyme|ben_idt_ano|num_enq)$", re.I
)
COMMUNE = re.compile(r"(commune|com_cod|ben_res_com|depcom|code_insee|codgeo|cog)", re.I)
FINESS = re.compile(r"(finess|eta_num|etb_num|etablissement)", re.I)
DATE_NAME = re.compile(
    r"(birth|naiss|nai_|dob|death|deces|décès|dcd|care|soin|soi_|date|dte|dat_|_dat)", re.I
)
DAY = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4}|\d{2}[A-Z]{3}\d{4})")
TOTAL = {"total", "totals", "all", "ensemble", "tous", "toutes", "overall", "sum", "somme"}
MASKED = {"masked", "masqué", "<11", "1-10", "<=10", "≤10", "*", "s", "nd", "secret"}
TEXT = {".csv", ".tsv", ".txt", ".md", ".html", ".htm", ".json"}


@dataclass
class FileReport:
    file: str
    status: str = "pass"  # pass, review (not written by sndskit), fail (quarantined)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_export(
    folder: Path,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    quarantine: Path | None = None,
    report: Path | None = None,
    move: bool = True,
) -> list[FileReport]:
    """Check every file of ``folder``; move failures to ``quarantine`` (default: a sibling
    ``quarantine`` folder); write ``export_check.md`` and ``.json`` beside ``folder``."""
    folder = Path(folder)
    quarantine = quarantine or folder.parent / "quarantine"
    listed = {}
    for export_md in folder.rglob(EXPORT_MD):
        listed |= {
            str((export_md.parent / k).resolve()): v for k, v in listed_hashes(export_md).items()
        }
    reports = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        result = FileReport(str(path.relative_to(folder)))
        try:
            tables = read_tables(path)
        except Exception as exc:
            tables, result.problems = [], [f"cannot be read automatically ({exc}): manual check"]
        if tables is None:
            result.problems.append("format not checkable automatically (image, binary…)")
            tables = []
        for name, rows in tables:
            result.problems += [f"{name}: {p}" for p in check_rows(rows, threshold)]
        if path.name != EXPORT_MD and listed.get(str(path.resolve())) != sha256(path):
            result.notes.append("not written by sndskit (or changed since): review by hand")
        if result.problems:
            result.status = "fail"
        elif result.notes:
            result.status = "review"
        reports.append(result)
    if move:
        for result in reports:
            if result.status == "fail":
                target = quarantine / result.file
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(folder / result.file, target)
    _write_report(report or folder.parent / "export_check", folder, quarantine, reports, threshold)
    return reports


def _write_report(base: Path, folder, quarantine, reports, threshold) -> None:
    write_json_atomic(
        base.with_suffix(".json"),
        {
            "folder": str(folder),
            "quarantine": str(quarantine),
            "threshold": threshold,
            "files": [asdict(r) for r in reports],
        },
    )
    lines = [
        f"# Contrôle d'export / Export check — {folder}",
        "",
        f"- {threshold_note(threshold, 'fr')} / {threshold_note(threshold)}",
        f"- quarantaine / quarantine: {quarantine}",
        "",
        "| file | status | problems | notes |",
        "|---|---|---|---|",
    ]
    for r in reports:
        lines.append(f"| {r.file} | {r.status} | {'; '.join(r.problems)} | {'; '.join(r.notes)} |")
    write_text_atomic(base.with_suffix(".md"), "\n".join(lines) + "\n")


def read_tables(path: Path) -> list[tuple[str, list[dict[str, Any]]]] | None:
    """The tables a file holds (None: a format that cannot be checked)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return [(path.name, _csv(path.read_text(encoding="utf-8", errors="replace")))]
    if suffix == ".json":
        return _json_tables(json.loads(path.read_text(encoding="utf-8")), path.name)
    if suffix == ".md":
        return _markdown(path.read_text(encoding="utf-8"), path.name)
    if suffix in (".html", ".htm"):
        parser = _Tables()
        parser.feed(path.read_text(encoding="utf-8"))
        return [(f"{path.name} table {i + 1}", t) for i, t in enumerate(parser.rows())]
    if suffix == ".xlsx":
        return _xlsx(path)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return [(path.name, pq.read_table(path).to_pylist())]
    if suffix == ".png":
        data = read_png_data(path)
        return None if data is None else [(f"{path.name} (data drawn)", data["data"])]
    return None


def _csv(text: str) -> list[dict[str, Any]]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    if not lines:
        return []
    try:
        delimiter = csv.Sniffer().sniff(lines[0], delimiters=",;\t|").delimiter
    except csv.Error:  # one column: nothing to sniff
        delimiter = ","
    return list(csv.DictReader(io.StringIO("\n".join(lines)), delimiter=delimiter))


def _json_tables(data: Any, name: str) -> list[tuple[str, list[dict[str, Any]]]]:
    out: list[tuple[str, list[dict[str, Any]]]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, list) and node and all(isinstance(x, dict) for x in node):
            out.append(
                (
                    where,
                    [{k: v for k, v in x.items() if not isinstance(v, dict | list)} for x in node],
                )
            )
            for i, x in enumerate(node):
                walk({k: v for k, v in x.items() if isinstance(v, dict | list)}, f"{where}[{i}]")
        elif isinstance(node, dict):
            scalars = {k: v for k, v in node.items() if not isinstance(v, dict | list)}
            if any(COUNT.match(str(k)) for k in scalars):
                out.append((where, [scalars]))
            for k, v in node.items():
                if isinstance(v, dict | list):
                    walk(v, f"{where}.{k}")

    walk(data, name)
    return out


def _markdown(text: str, name: str) -> list[tuple[str, list[dict[str, Any]]]]:
    tables, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.strip().startswith("|"):
            current.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif current:
            rows = [r for r in current[1:] if not all(set(c) <= set("-: ") for c in r)]
            tables.append(
                (
                    f"{name} table {len(tables) + 1}",
                    [dict(zip(current[0], r, strict=False)) for r in rows],
                )
            )
            current = []
    return tables


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)

    def rows(self) -> list[list[dict[str, Any]]]:
        return [[dict(zip(t[0], r, strict=False)) for r in t[1:]] for t in self.tables if t]


def _xlsx(path: Path) -> list[tuple[str, list[dict[str, Any]]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    out = []
    for sheet in book.worksheets:
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        if values:
            head = [str(h) for h in values[0]]
            out.append(
                (
                    f"{path.name}:{sheet.title}",
                    [dict(zip(head, r, strict=False)) for r in values[1:]],
                )
            )
    return out


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value or "").replace("\u202f", "").replace(" ", "").strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def _masked(value: Any) -> bool:
    return str(value or "").strip().lower() in MASKED


def check_rows(rows: list[dict[str, Any]], threshold: int) -> list[str]:
    """What in these rows may not leave (empty: nothing found)."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    problems = []
    for column in columns:
        values = [row.get(column) for row in rows if row.get(column) not in (None, "")]
        name = str(column)
        if IDENTIFIER.match(name):
            problems.append(f"identifier column {name}")
        if (
            PERSON.match(name)
            and len(values) > 1
            and len(set(map(str, values))) >= 0.9 * len(values)
        ):
            problems.append(f"person-level: one row per {name}")
        if COMMUNE.search(name) and values:
            problems.append(f"commune codes in {name}")
        if FINESS.search(name) and any(re.fullmatch(r"\w{9}", str(v)) for v in values):
            problems.append(
                f"establishment FINESS numbers in {name} (small establishments identify)"
            )
        if DATE_NAME.search(name) and any(DAY.match(str(v)) for v in values):
            problems.append(f"exact dates (day) in {name}")
        if COUNT.match(name):
            small = [
                i + 1 for i, row in enumerate(rows) if is_small(_int(row.get(column)), threshold)
            ]
            if small:
                problems.append(
                    f"{len(small)} count(s) of 1-{threshold} in {name} (rows {small[:5]})"
                )
    return problems + _totals(rows, columns, threshold)


def _totals(rows: list[dict[str, Any]], columns: list, threshold: int) -> list[str]:
    counts = [c for c in columns if COUNT.match(str(c))]
    labels = [c for c in columns if c not in counts]
    problems = []
    for total in rows:
        for label in labels:
            if str(total.get(label) or "").strip().lower() not in TOTAL:
                continue
            others = [c for c in labels if c != label]
            group = [
                r
                for r in rows
                if r is not total
                and all(r.get(c) == total.get(c) for c in others)
                and str(r.get(label) or "").strip().lower() not in TOTAL
            ]
            for column in counts:
                whole = _int(total.get(column))
                hidden = [r for r in group if _masked(r.get(column))]
                if whole is None or not hidden:
                    continue
                rest = whole - sum(_int(r.get(column)) or 0 for r in group if r not in hidden)
                if len(hidden) == 1:
                    problems.append(f"total row gives back a masked {column} cell")
                elif is_small(rest, threshold):
                    problems.append(f"masked {column} cells of a total add up to 1-{threshold}")
    return problems
