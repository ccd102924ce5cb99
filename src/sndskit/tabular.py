"""Tabular files people open in a spreadsheet: CSV (`,` or `;`, optional BOM) and XLSX.

One writer and one reader shared by every command that exports or imports a table.
French spreadsheets expect `;` as the separator and a UTF-8 byte-order mark (BOM) to
recognise accents; XLSX avoids both questions.

>>> text = table_text(["code", "label"], [["E11", "Diabète"]], sep=";", bom=True)
>>> text.startswith("\\ufeffcode;label")
True
>>> list(csv_reader(text))
[{'code': 'E11', 'label': 'Diabète'}]
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sndskit.errors import SndskitError
from sndskit.io import atomic_path

TABULAR_FORMATS = ("csv", "xlsx")
SEPARATORS = (",", ";", "\t")
BOM = "\ufeff"


def check_separator(sep: str) -> str:
    """``sep`` itself, or an error listing the separators spreadsheets read."""
    sep = "\t" if sep in ("\\t", "tab") else sep
    if sep not in SEPARATORS:
        raise SndskitError(f"unknown CSV separator {sep!r}", field="sep", allowed=[",", ";", "\\t"])
    return sep


def table_text(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, sep: str = ",", bom: bool = False
) -> str:
    """A CSV document: header then rows, ``\\n`` line ends, optional UTF-8 BOM."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=check_separator(sep), lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return (BOM if bom else "") + out.getvalue()


def write_xlsx(
    path: Path | str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    sheet: str = "sndskit",
) -> Path:
    """An XLSX workbook with one sheet (bold, frozen header), written atomically.

    Codes stay text: a CIP13 such as ``3400930000000`` or a NABM ``0592`` keeps its digits.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    ws = book.active
    ws.title = sheet[:31]
    ws.append(list(columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for row in rows:
        ws.append(["" if v is None else v for v in row])
    for cell in ws.iter_rows(min_row=2):
        for c in cell:
            if isinstance(c.value, str):
                c.number_format = "@"
    with atomic_path(path, suffix=".xlsx") as tmp:
        book.save(tmp)
    return Path(path)


def write_table(
    path: Path | str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    fmt: str = "csv",
    sep: str = ",",
    bom: bool = False,
) -> Path:
    """Write a table as ``fmt`` (csv or xlsx) to ``path``, atomically."""
    if fmt == "xlsx":
        return write_xlsx(path, columns, rows)
    if fmt != "csv":
        raise SndskitError(f"unknown table format {fmt!r}", field="format", allowed=TABULAR_FORMATS)
    with atomic_path(path) as tmp:
        tmp.write_text(table_text(columns, rows, sep=sep, bom=bom), encoding="utf-8")
    return Path(path)


def format_for(path: Path | str) -> str:
    """``xlsx`` for a ``.xlsx`` file, ``csv`` for ``.csv``/``.tsv``/``.txt``; else an error.

    >>> format_for("usage.xlsx"), format_for("usage.csv")
    ('xlsx', 'csv')
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".xlsx":
        return "xlsx"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    raise SndskitError(
        f"cannot tell the table format of {Path(path).name!r}",
        field="out",
        allowed=[".csv", ".xlsx"],
    )


def sniff_separator(header: str) -> str:
    """The separator of a CSV header line: the most frequent of `;`, tab and `,`."""
    counts = {sep: header.count(sep) for sep in (";", "\t", ",")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def read_text(path: Path | str) -> str:
    """A text file as UTF-8 (BOM dropped); a non-UTF-8 file is a clear error."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SndskitError("file not found", file=path) from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise SndskitError(
            "not UTF-8 text",
            file=path,
            line=line,
            hint="save it as UTF-8 (CSV UTF-8 in a spreadsheet) / enregistrez-le en UTF-8",
        ) from None


def csv_reader(text: str) -> csv.DictReader:
    """Rows of a CSV document separated by `,`, `;` or tab (BOM ignored); ``line_num``
    of the reader gives the line of the current row."""
    text = text.removeprefix(BOM)
    header = text.split("\n", 1)[0]
    return csv.DictReader(io.StringIO(text), delimiter=sniff_separator(header))
