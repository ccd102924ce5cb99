"""NABM (biology acts) and its chapter tree, from ``ORAREF/IR_BIO_R.csv``.

Codes: acts are 4-digit strings with their leading zeros (``BIO_PRS_IDE`` 215 → ``0215``),
all 1,076 rows kept, including ``0000`` (non-coded act) and ``9999`` (erroneous act).
Validity: ``BIO_CRE_DAT`` (creation) → ``valid_from``, ``BIO_SUP_DAT`` (removal) →
``valid_to``.

Tree: ``BIO_ARB_CHA`` (chapter) then ``BIO_ARB_SC1`` … ``BIO_ARB_SC4`` (sub-chapters)
give an act's place; ``0`` (or empty) means "no further level", and a ``0`` chapter
means the act sits outside the chapters (the general provisions, codes ``9xxx``, and a
few others): those acts have no parent and no level. Nodes are coded by their two-digit
numbers joined by dots — ``07`` (chapter 7), ``07.06`` (its sub-chapter 6) — so they never
collide with 4-digit act codes. The file has no chapter titles, so nodes are labelled by
their number only (``Chapitre 07``, ``Sous-chapitre 07.06``): no title is made up. An act
is one level below its deepest node. ``BIO_ARB_BAS`` (rank within the node) is not a tree
level.
"""

from __future__ import annotations

from pathlib import Path

from sndskit.errors import SndskitError
from sndskit.terminology.loaders.ccam import clean_text, read_checked_csv, tree_levels
from sndskit.terminology.loaders.common import NOMENCLATURES, parse_date
from sndskit.terminology.model import ConceptRow, TerminologyBatch

VOCAB = "NABM"
BIO_REL = str(NOMENCLATURES / "ORAREF" / "IR_BIO_R.csv")
TREE_COLUMNS = ("BIO_ARB_CHA", "BIO_ARB_SC1", "BIO_ARB_SC2", "BIO_ARB_SC3", "BIO_ARB_SC4")


def tree_path(row: dict[str, str], columns: tuple[str, ...], *, path: Path, line: int) -> list[int]:
    """Tree numbers of a row, stopping at the first ``0`` or empty level.

    >>> tree_path({"A": "7", "B": "6", "C": "0"}, ("A", "B", "C"), path=Path("x"), line=2)
    [7, 6]
    """
    numbers: list[int] = []
    for column in columns:
        text = (row.get(column) or "").strip()
        if text.endswith(".0"):
            text = text[:-2]
        if not text:
            break
        if not text.isdigit():
            raise SndskitError(
                f"tree position {text!r} is not a whole number", file=path, line=line, field=column
            )
        if int(text) == 0:
            break
        numbers.append(int(text))
    return numbers


def _node_label(code: str) -> str:
    return f"Chapitre {code}" if "." not in code else f"Sous-chapitre {code}"


def load_biology(root: Path) -> TerminologyBatch:
    """NABM acts (``0215``) and their chapter nodes (``06``, ``06.01``)."""
    path = root / BIO_REL
    if not path.exists():
        return TerminologyBatch([], [], [], {})
    required = ("BIO_PRS_IDE", "BIO_INF_LIB", "BIO_CRE_DAT", "BIO_SUP_DAT", *TREE_COLUMNS)
    acts: list[tuple[str, str, str | None, object, object]] = []
    nodes: dict[str, str | None] = {}
    seen: dict[str, int] = {}
    latest = None
    for line, row in read_checked_csv(path, required):
        raw = row["BIO_PRS_IDE"].strip()
        if not raw.isdigit() or len(raw) > 4:
            raise SndskitError(
                f"NABM code {raw!r} is not a number of at most 4 digits",
                file=path,
                line=line,
                field="BIO_PRS_IDE",
            )
        if raw.zfill(4) in seen:
            raise SndskitError(
                f"NABM code {raw.zfill(4)} appears twice (first on line {seen[raw.zfill(4)]})",
                file=path,
                line=line,
                field="BIO_PRS_IDE",
            )
        seen[raw.zfill(4)] = line
        start = parse_date(row["BIO_CRE_DAT"], path=path, line=line, field="BIO_CRE_DAT")
        end = parse_date(row["BIO_SUP_DAT"], path=path, line=line, field="BIO_SUP_DAT")
        if start is not None and (latest is None or start > latest):
            latest = start
        parent = None
        for number in tree_path(row, TREE_COLUMNS, path=path, line=line):
            code = f"{parent}.{number:02d}" if parent else f"{number:02d}"
            nodes.setdefault(code, parent)
            parent = code
        acts.append((raw.zfill(4), clean_text(row["BIO_INF_LIB"]), parent, start, end))

    parents = dict(nodes)
    parents.update((code, parent) for code, _, parent, _, _ in acts if parent is not None)
    levels = tree_levels(parents)
    concepts = [
        ConceptRow(VOCAB, code, _node_label(code), parent, levels[code], source=BIO_REL)
        for code, parent in sorted(nodes.items())
    ]
    concepts += [
        ConceptRow(VOCAB, code, label, parent, levels.get(code), start, end, BIO_REL)
        for code, label, parent, start, end in acts
    ]
    version = "IR_BIO_R (NABM, schema-snds)" + (
        f", acts created up to {latest.isoformat()}" if latest else ""
    )
    return TerminologyBatch(concepts, [], [], {VOCAB: version})
