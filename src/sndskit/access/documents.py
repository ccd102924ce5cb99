"""The documents folder of a dossier: which expected document each file is, and its text.

Text is read from Markdown, plain text, HTML and DOCX files (a DOCX is a zip whose
``word/document.xml`` holds the paragraphs; reading it needs no extra library).
"""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path

from sndskit.access.rules import get_documents
from sndskit.text import normalise_text

TEXT_SUFFIXES = (".md", ".txt", ".html", ".htm", ".docx")
_TAG = re.compile(r"<[^>]+>")


def read_document_text(path: Path) -> str:
    """The text of a document, one paragraph per line ('' for unreadable formats)."""
    suffix = path.suffix.lower()
    if suffix == ".docx":
        try:
            with zipfile.ZipFile(path) as archive:
                xml = archive.read("word/document.xml").decode("utf-8")
        except (zipfile.BadZipFile, KeyError):
            return ""
        paragraphs = re.split(r"</w:p>", xml)
        return "\n".join(html.unescape(_TAG.sub("", p)) for p in paragraphs).strip()
    if suffix in (".html", ".htm"):
        raw = path.read_text(encoding="utf-8", errors="replace")
        return html.unescape(_TAG.sub("\n", raw))
    if suffix in (".md", ".txt"):
        return path.read_text(encoding="utf-8", errors="replace")
    return ""


def _key(name: str) -> str:
    return normalise_text(name).replace("-", "_").replace(" ", "_")


def match_documents(folder: Path | None) -> dict[str, list[Path]]:
    """Expected document id → the files of ``folder`` whose name matches its patterns.

    The most specific pattern wins: ``dpi_responsable.pdf`` is the controller's declaration
    of interests, not the CNIL form.
    """
    expected = get_documents()["documents"]
    found: dict[str, list[Path]] = {key: [] for key in expected}
    if folder is None:
        return found
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        name = _key(path.stem)
        best = max(
            (
                (len(pattern), key)
                for key, doc in expected.items()
                for pattern in doc["patterns"]
                if pattern in name
            ),
            default=None,
        )
        if best:
            found[best[1]].append(path)
    return found
