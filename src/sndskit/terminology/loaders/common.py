"""Reading helpers shared by the loaders: SNDS reference CSVs and gzip JSON lists."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sndskit.catalog.loader import nomenclature_file
from sndskit.errors import SndskitError

NOMENCLATURES = Path("schema-snds") / "nomenclatures"


def nomenclature_csv(root: Path, folder: str, name: str) -> Path:
    return nomenclature_file(root / NOMENCLATURES / folder / f"{name}.json")


def read_reference_csv(
    path: Path, required: tuple[str, ...], *, keep_technical: bool = False
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line number, row)`` of a ``;``-separated SNDS reference table.

    Rows flagged technical (``TEC_COL`` 1 = unknown value, 2 = not applicable) are
    skipped unless ``keep_technical``. A missing required column is an error naming the
    file and the columns it does have.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        columns = reader.fieldnames or []
        missing = [c for c in required if c not in columns]
        if missing:
            raise SndskitError(
                f"missing column(s) {', '.join(missing)}", file=path, line=1, allowed=columns
            )
        for row in reader:
            if not keep_technical and row.get("TEC_COL", "0") not in ("0", "", None):
                continue
            yield reader.line_num, row


def read_gzip_json_list(path: Path) -> list[dict[str, Any]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, json.JSONDecodeError) as exc:
        raise SndskitError(f"cannot read gzip JSON ({exc})", file=path) from None
    if not isinstance(data, list):
        raise SndskitError("expected a JSON list of records", file=path)
    return data


_SAS_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}


def parse_date(value: str | None, *, path: Path, line: int, field: str) -> date | None:
    """Dates as found in SNDS references: ISO, ``DD/MM/YYYY`` or SAS ``01JAN2011:00:00:00``.

    >>> parse_date("01JAN2011:00:00:00", path=Path("x"), line=1, field="d")
    datetime.date(2011, 1, 1)
    >>> parse_date("2005-03-01", path=Path("x"), line=1, field="d")
    datetime.date(2005, 3, 1)
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        if len(text) >= 9 and text[2:5].upper() in _SAS_MONTHS:
            return date(int(text[5:9]), _SAS_MONTHS[text[2:5].upper()], int(text[:2]))
        if "/" in text:
            return datetime.strptime(text[:10], "%d/%m/%Y").date()
        return date.fromisoformat(text[:10])
    except ValueError:
        raise SndskitError(
            f"unreadable date {text!r} (expected YYYY-MM-DD, DD/MM/YYYY or 01JAN2011)",
            file=path,
            line=line,
            field=field,
        ) from None
