"""Helpers shared by the mapping file readers and writers: typed cells, clear errors."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from sndskit.errors import SndskitError
from sndskit.io import atomic_path
from sndskit.omop.mappings import Mapping

SourceIds = dict[tuple[str, str], int]


# -- helpers --------------------------------------------------------------------------
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(value: datetime | None) -> str:
    """Epoch milliseconds, exactly (integer arithmetic; 0 = none, as Usagi writes)."""
    return str((value - EPOCH) // timedelta(milliseconds=1)) if value else "0"


def from_ms(text: str, where: dict) -> datetime | None:
    millis = int(parse_number(text or "0", int, **where))
    return EPOCH + timedelta(milliseconds=millis) if millis > 0 else None


def parse_number(text: str, kind: Callable, *, file, line, field):
    try:
        return kind(text.strip())
    except ValueError:
        raise SndskitError(
            f"not a number: {text!r}",
            file=file,
            line=line,
            field=field,
            allowed=["an integer" if kind is int else "a number"],
        ) from None


def parse_enum(enum, text: str, *, file, line, field, legacy: dict | None = None):
    value = (text or "").strip().upper()
    if legacy and value in legacy:
        return legacy[value]
    try:
        return enum(value)
    except ValueError:
        raise SndskitError(
            f"unknown value {text!r}",
            file=file,
            line=line,
            field=field,
            allowed=[e.value for e in enum],
        ) from None


def build_mapping(fields: dict, *, file, line) -> Mapping:
    try:
        return Mapping(**fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or None
        raise SndskitError(error["msg"], file=file, line=line, field=field) from None


def check_header(header: list[str] | None, required: Iterable[str], path: Path) -> None:
    missing = [c for c in required if c not in (header or [])]
    if missing:
        raise SndskitError(
            f"missing column {missing[0]!r}",
            file=path,
            line=1,
            field=missing[0],
            allowed=list(required),
        )


def dict_rows(path: Path, delimiter: str | None = None) -> tuple[csv.DictReader, int]:
    """A dict reader over the file's lines after any leading ``#`` metadata block, and the
    number of lines skipped (add it to ``reader.line_num`` for the line in the file).
    The delimiter (tab or comma) is sniffed from the header when not given."""
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    skipped = 0
    while skipped < len(lines) and lines[skipped].startswith("#"):
        skipped += 1
    body = lines[skipped:]
    first = body[0] if body else ""
    delimiter = delimiter or ("\t" if "\t" in first else ",")
    return csv.DictReader(body, delimiter=delimiter), skipped


def write_csv(
    path: Path, columns: list[str], rows: Iterable[list], delimiter: str = ",", preamble: str = ""
) -> Path:
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as handle:
        handle.write(preamble)
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    return Path(path)
