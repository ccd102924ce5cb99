"""Word (DOCX) files of the EDB and the dossier, from the same text as the Markdown output.

The Markdown renderer is the one place the EDB's words are chosen (from the ``Edb`` model,
in French or English); here its tokens (markdown-it, as for the HTML output) become Word
headings, paragraphs, bullet lists and real Word tables. A cell is always plain text: Word
has no formulas, and a text starting with "=" is written as it is.
"""

from __future__ import annotations

from pathlib import Path

from sndskit.io import atomic_path


def _add_inline(paragraph, token) -> None:
    """The runs of one inline token (bold, italic and code kept; links as their text)."""
    bold = italic = False
    for child in token.children or []:
        if child.type == "strong_open":
            bold = True
        elif child.type == "strong_close":
            bold = False
        elif child.type == "em_open":
            italic = True
        elif child.type == "em_close":
            italic = False
        elif child.type in ("softbreak", "hardbreak"):
            paragraph.add_run().add_break()
        elif child.type in ("text", "code_inline"):
            run = paragraph.add_run(child.content)
            run.bold, run.italic = bold or None, italic or None
            if child.type == "code_inline":
                run.font.name = "Consolas"


def _add_table(document, tokens, start: int) -> int:
    """A Word table from the tokens of a Markdown table; returns the index after it."""
    rows: list[list] = []
    index = start + 1
    while tokens[index].type != "table_close":
        token = tokens[index]
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline":
            rows[-1].append(token)
        index += 1
    width = max(len(r) for r in rows)
    table = document.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    # one pass over the rows: table.cell(r, c) rescans the table each call (quadratic)
    for r, (row, cells) in enumerate(zip(table.rows, rows, strict=True)):
        for cell, token in zip(row.cells, cells, strict=False):
            paragraph = cell.paragraphs[0]
            _add_inline(paragraph, token)
            if r == 0:
                for run in paragraph.runs:
                    run.bold = True
    return index + 1


def build_document(markdown: str, title: str, lang: str):
    """A python-docx ``Document`` holding ``markdown`` (headings, lists, tables, code)."""
    from docx import Document
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    document = Document()
    document.core_properties.title = title
    document.core_properties.language = "fr-FR" if lang == "fr" else "en-GB"
    lists = 0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "table_open":
            index = _add_table(document, tokens, index)
            continue
        if token.type in ("bullet_list_open", "ordered_list_open"):
            lists += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists -= 1
        elif token.type == "heading_open":
            level = min(int(token.tag[1]) - 1, 9)
            _add_inline(document.add_heading("", level=level), tokens[index + 1])
            index += 3
            continue
        elif token.type == "inline":
            style = "List Bullet 2" if lists > 1 else "List Bullet" if lists else None
            _add_inline(document.add_paragraph(style=style), token)
        elif token.type in ("fence", "code_block"):
            for line in token.content.rstrip("\n").split("\n"):
                document.add_paragraph().add_run(line).font.name = "Consolas"
        index += 1
    return document


def write_markdown_docx(markdown: str, target: Path, title: str, lang: str = "fr") -> Path:
    """Write ``markdown`` as a DOCX file, atomically (temp file then rename)."""
    document = build_document(markdown, title, lang)
    with atomic_path(target, suffix=".docx") as tmp:
        document.save(str(tmp))
    return Path(target)
