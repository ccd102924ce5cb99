"""Writing what may leave: CSVs and PNGs that state the threshold, and the two folders.

``OUT/private/`` holds person-level files (``cohort.parquet``…) and unmasked working data; they
never leave the secure environment. ``OUT/export/`` holds the releasable files and
``EXPORT.md``, which lists each of them (with its SHA-256, so ``sndskit export check`` knows
sndskit wrote it) and the checks they passed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sndskit import __version__
from sndskit.disclosure.threshold import MASK, threshold_note

PRIVATE = "private"
EXPORT = "export"
EXPORT_MD = "EXPORT.md"
PNG_KEY = "sndskit-data"
"""PNG text chunk holding the data drawn, so that `export check` can check a figure."""


def csv_text(
    rows: Iterable[dict[str, Any]], columns: Sequence[str], threshold: int, masked: str = "masked"
) -> str:
    """CSV with a ``threshold`` column on every row; a masked row's empty values read
    ``masked`` (the one label), the flag column reads ``masked`` only on masked rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*columns, "threshold"])
    for row in rows:
        hidden = bool(row.get(masked))
        cells = []
        for column in columns:
            value = row.get(column)
            if column == masked or value is None:
                cells.append(MASK if hidden else "")
            else:
                cells.append(value)
        writer.writerow([*cells, threshold])
    return buffer.getvalue()


def save_png(fig, path: Path, data: Any, threshold: int, caption: str = "") -> Path:
    """Save a matplotlib figure with the threshold in its footer and the drawn data in a PNG
    text chunk (``sndskit-data``)."""
    note = f"{threshold_note(threshold)} / {threshold_note(threshold, 'fr')}"
    fig.text(0.01, 0.005, (caption + " — " if caption else "") + note, fontsize=6, color="#555")
    payload = json.dumps({"threshold": threshold, "data": data}, default=str, ensure_ascii=False)
    fig.savefig(path, dpi=130, metadata={PNG_KEY: payload, "Software": f"sndskit {__version__}"})
    return path


def read_png_data(path: Path) -> dict[str, Any] | None:
    """The data sndskit stored in a PNG, or None for a PNG sndskit did not write."""
    from PIL import Image

    with Image.open(path) as image:
        text = getattr(image, "text", {}) or image.info
        payload = text.get(PNG_KEY)
    return None if payload is None else json.loads(payload)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_markdown(
    export_dir: Path, title: str, threshold: int, checks: list[str], private: list[str]
) -> str:
    """EXPORT.md: every releasable file with its SHA-256, and the checks they passed."""
    files = sorted(p for p in export_dir.iterdir() if p.is_file() and p.name != EXPORT_MD)
    lines = [
        f"# Export — {title}",
        "",
        f"sndskit {__version__}, {datetime.now(UTC).isoformat(timespec='seconds')}.",
        "",
        f"- {threshold_note(threshold, 'fr')}",
        f"- {threshold_note(threshold)}",
        "",
        "## Fichiers exportables / Releasable files",
        "",
        "| file | sha256 |",
        "|---|---|",
        *(f"| {p.name} | {sha256(p)} |" for p in files),
        "",
        "## Contrôles passés / Checks passed",
        "",
        *(f"- {c}" for c in checks),
        "",
        "## Ne sort pas / Stays inside (person-level: ../private/)",
        "",
        *(f"- {name}" for name in private),
        "",
        "Validate with `sndskit export check` before any release (CNIL MR-007 SEC-EXP).",
        "",
    ]
    return "\n".join(lines)


def write_export(
    out: Path,
    title: str,
    files: dict[str, str],
    *,
    threshold: int,
    audit: dict[str, Any],
    manifest: dict[str, Any] | None = None,
) -> Path:
    """Write ``out/export/``: the ``files`` (name → text), ``manifest.json`` with the
    disclosure section and ``EXPORT.md``; return the folder."""
    from sndskit.disclosure.threshold import is_unsafe, threshold_warning
    from sndskit.io import write_json_atomic, write_text_atomic

    folder = Path(out) / EXPORT
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        write_text_atomic(folder / name, text)
    section = {
        "threshold": threshold,
        "unsafe_threshold": is_unsafe(threshold),
        "note": {"fr": threshold_note(threshold, "fr"), "en": threshold_note(threshold)},
        "warning": threshold_warning(threshold),
        "label": MASK,
        "published": sorted(files),
        "audit": audit,
    }
    data = {
        "sndskit_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **(manifest or {}),
        "disclosure": section,
    }
    write_json_atomic(folder / "manifest.json", data)
    checks = [
        threshold_note(threshold),
        f"one suppression pattern: {audit['suppressed_cells']} cells masked, labelled `{MASK}`",
        f"audit by linear programming: {audit['checked_intervals']} intervals, narrowest "
        f"{audit['narrowest_interval']} (rule: ≥ {threshold})",
    ]
    write_text_atomic(folder / EXPORT_MD, export_markdown(folder, title, threshold, checks, []))
    return folder


def listed_hashes(export_md: Path) -> dict[str, str]:
    """File name → SHA-256 as listed by an EXPORT.md sndskit wrote."""
    out = {}
    for line in export_md.read_text(encoding="utf-8").splitlines():
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if len(parts) == 2 and len(parts[1]) == 64:
            out[parts[0]] = parts[1]
    return out
