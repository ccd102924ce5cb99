"""Registry exports (CSV, XLSX, JSON with the public directory's columns), imports of such
an export (one clear error per bad row), and a registry record built from a study."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sndskit.access.edb import Edb
from sndskit.access.registry import Registry
from sndskit.access.registry_model import LIST_FIELDS, ProjectRecord
from sndskit.access.render import keep_text
from sndskit.access.rules import check_language, get_registry_columns
from sndskit.errors import SndskitError
from sndskit.io import atomic_path, write_json_atomic, write_text_atomic

FORMATS = ("csv", "xlsx", "json")
ITEM_SEPARATOR = "\n"  # items never hold a line break: ProjectRecord folds whitespace


def directory_columns() -> list[dict[str, str]]:
    return get_registry_columns()


def directory_row(record: ProjectRecord, *, flat: bool = True) -> dict[str, Any]:
    """The record as the public directory shows it: one value per column; list items one
    per line in a cell (``flat``) or JSON lists."""
    data = record.model_dump(mode="json")
    lists = {
        "controllers": [c["name"] for c in data["controllers"]],
        "controller_types": [c["type"] for c in data["controllers"]],
        **{name: data[name] for name in LIST_FIELDS if name != "controllers"},
    }
    row = {}
    for column in directory_columns():
        name = column["field"]
        if name in lists:
            row[name] = ITEM_SEPARATOR.join(lists[name]) if flat else lists[name]
        else:
            row[name] = "" if data[name] is None else data[name]
    return row


def export_registry(records: list[ProjectRecord], fmt: str, target: Path, lang: str = "fr") -> Path:
    """Write the projects with the public directory's columns (headers in ``lang``)."""
    check_language(lang)
    if fmt not in FORMATS:
        raise SndskitError(f"unknown export format {fmt!r}", field="format", allowed=FORMATS)
    if fmt == "json":
        return write_json_atomic(target, [directory_row(r, flat=False) for r in records])
    rows = [directory_row(r) for r in records]
    headers = [c[lang] for c in directory_columns()]
    fields = [c["field"] for c in directory_columns()]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows([[row[f] for f in fields] for row in rows])
        return write_text_atomic(target, buffer.getvalue())
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "projets" if lang == "fr" else "projects"
    sheet.append(headers)
    for row in rows:
        sheet.append([row[f] for f in fields])
    keep_text(sheet)
    with atomic_path(target, suffix=".xlsx") as tmp:
        book.save(tmp)
    return Path(target)


def _read_table(path: Path) -> list[list[Any]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True).worksheets[0]
        return [["" if v is None else v for v in r] for r in sheet.iter_rows(values_only=True)]
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle))
    raise SndskitError("registry imports read .csv or .xlsx", file=path, allowed=["csv", "xlsx"])


def _items(cell: Any) -> list[str]:
    return [item.strip() for item in str(cell).splitlines() if item.strip()]


def _record(raw: dict[str, Any]) -> ProjectRecord:
    data: dict[str, Any] = {}
    names = _items(raw.pop("controllers", ""))
    types = _items(raw.pop("controller_types", ""))
    if len(types) != len(names):
        raise SndskitError(
            f"{len(names)} controllers but {len(types)} controller types", field="controller_types"
        )
    data["controllers"] = [{"name": n, "type": t} for n, t in zip(names, types, strict=True)]
    for name, value in raw.items():
        if name in LIST_FIELDS:
            data[name] = _items(value)
        elif value not in ("", None):
            data[name] = value.isoformat()[:10] if hasattr(value, "isoformat") else value
    try:
        return ProjectRecord.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"])
        raise SndskitError(error["msg"], field=field) from None


def read_directory_export(path: Path | str) -> list[ProjectRecord]:
    """Projects of a directory export (French or English headers); every bad row is
    reported (file, row number, field), and nothing is returned unless all rows are good."""
    path = Path(path)
    table = _read_table(path)
    if not table:
        raise SndskitError("empty file", file=path)
    by_header = {c[lang]: c["field"] for c in directory_columns() for lang in ("fr", "en")}
    unknown = [h for h in table[0] if h not in by_header]
    if unknown:
        raise SndskitError(
            f"unknown column {unknown[0]!r}",
            file=path,
            line=1,
            allowed=[c["fr"] for c in directory_columns()],
        )
    fields = [by_header[h] for h in table[0]]
    records, errors = [], []
    for number, values in enumerate(table[1:], start=2):
        if not any(str(v).strip() for v in values):
            continue
        try:
            records.append(_record(dict(zip(fields, values, strict=False))))
        except SndskitError as exc:
            errors.append(SndskitError(exc.message, file=path, line=number, field=exc.field))
    if errors:
        raise SndskitError(
            f"{len(errors)} bad row(s), nothing imported:\n"
            + "\n".join(e.render() for e in errors),
            file=path,
        )
    return records


def record_from_study(edb: Edb, reference: str | None = None) -> ProjectRecord:
    """A registry entry pre-filled from the study and its EDB."""
    spec = edb.spec
    reference = reference or spec.reference
    if not reference:
        raise SndskitError("the study has no reference: give one", field="reference")
    return ProjectRecord(
        reference=reference,
        title=spec.title,
        route=spec.route,
        controllers=list(spec.controllers),
        purpose=" ".join(spec.purpose.description.split()) or spec.purpose.category,
        objectives=[o.text for o in spec.objectives],
        data_sources=["SNDS", *(e.name for e in spec.external_data)],
        components=list(edb.components()),
        depth_years=spec.filed_on.year - edb.first_year(),
        period_start=spec.targeting_period.start,
        period_end=spec.follow_up_end,
        environment=spec.environment,
        filed_on=spec.filed_on,
    )


def import_records(registry: Registry, records: list[ProjectRecord], *, by: str) -> dict:
    """Add new projects, update the changed fields of known ones; counts of each."""
    known = {r.reference for r in registry.list_projects()}
    counts = {"added": 0, "updated": 0}
    for record in records:
        if record.reference not in known:
            registry.add(record, by=by)
            counts["added"] += 1
            continue
        values = record.model_dump(mode="json", exclude={"reference", "version"})
        before = registry.get(record.reference).version
        if registry.update(record.reference, by=by, set_values=values).version != before:
            counts["updated"] += 1
    return counts


def dump_record(record: ProjectRecord) -> str:
    return json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False)
