"""CCAM (procedures): acts and their chapter tree.

Sources (each optional; the loader returns what it finds):

- ``schema-snds/nomenclatures/ATIH/IR_CCAM_V63.csv`` — the SNDS act table (code, label,
  regrouping). A few codes carry a line break and a modifier (``"JANH798\\n[A]"``): the
  7-character act code before the break is kept. Rows whose code is not an act code
  (``NT_09``, a note of the printed nomenclature) are left out.
- ``nomensland/ccam_actes.json.gz`` — ATIH acts with short and long labels and their
  start/end dates (``date_debut``, ``date_fin``).
- ``nomensland/ccam_hierarchie_actes.json.gz`` — the tree. Rows of type ``H`` are tree
  nodes, rows of type ``A`` attach an act to its node through ``parent`` (the internal
  ``000044``-style id of a ``H`` row; the act row repeats that node's ``strate``).

Codes: acts keep their 7-character code (``DDAF001``). Tree nodes are coded by their
``strate`` with the trailing ``.00`` groups removed, the numbering CCAM users quote:
``04`` (chapter), ``04.02`` (sub-chapter), ``04.02.04`` (paragraph), ``04.02.04.01``
(sub-paragraph). The internal ``000044`` ids and the ``00.00.00.00`` root are dropped.
Levels: chapters 1 … sub-paragraphs 4; an act is one level below its node (2 to 5).
Acts outside the tree have no parent and no level.

Labels: an act's label is the ATIH long label of ``ccam_actes`` (the most recent wording,
2025), else the ``IR_CCAM_V63`` label, else the tree's label. The short label is a
``short_label`` synonym; an ``IR_CCAM_V63`` label worded differently is an ``alt_label``
(variants differing only in case or accents are not kept).

This module also holds the small checked readers the procedure loaders share
(:func:`read_checked_csv`, :func:`read_checked_json`, :func:`tree_levels`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from sndskit.errors import SndskitError
from sndskit.terminology.loaders.common import (
    NOMENCLATURES,
    parse_date,
    read_gzip_json_list,
    read_reference_csv,
)
from sndskit.terminology.model import ConceptRow, SynonymRow, TerminologyBatch
from sndskit.text import normalise_text

VOCAB = "CCAM"
ACT_CODE = re.compile(r"^[A-Z]{4}[0-9]{3}$")
V63_REL = str(NOMENCLATURES / "ATIH" / "IR_CCAM_V63.csv")
ACTS_REL = "nomensland/ccam_actes.json.gz"
TREE_REL = "nomensland/ccam_hierarchie_actes.json.gz"


# --- shared helpers (CSV / JSON with located errors, levels from parent links) ---------


def read_checked_csv(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line, row)`` of a ``;``-separated SNDS reference table, technical rows included.

    A missing required column raises :class:`SndskitError` naming the file, line 1 (the
    header), the first missing column as ``field`` and the columns the file does have.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        header = [name.strip() for name in handle.readline().rstrip("\r\n").split(";")]
    header = [name.strip('"') for name in header]
    missing = [name for name in required if name not in header]
    if missing:
        raise SndskitError(
            f"missing column {missing[0]}", file=path, line=1, field=missing[0], allowed=header
        )
    return read_reference_csv(path, required, keep_technical=True)


def read_checked_json(
    path: Path, required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(record number, record)`` of a gzip JSON list of objects (numbers start at 1).

    A record that is not an object, or lacks a required key, raises :class:`SndskitError`
    with the record number as ``line`` and the key as ``field``.
    """
    for number, record in enumerate(read_gzip_json_list(path), 1):
        if not isinstance(record, dict):
            raise SndskitError("expected a JSON object (record)", file=path, line=number)
        for key in required:
            if record.get(key) in (None, ""):
                raise SndskitError(
                    f"record {number} has no {key!r}",
                    file=path,
                    line=number,
                    field=key,
                    allowed=sorted(record),
                )
        yield number, record


def tree_levels(parents: Mapping[str, str | None]) -> dict[str, int]:
    """Depth of every code given ``code → parent`` (1 = no parent); parents must exist.

    >>> tree_levels({"04": None, "04.02": "04", "DDAF001": "04.02"})["DDAF001"]
    3
    """
    levels: dict[str, int] = {}
    for start in parents:
        chain = []
        code: str | None = start
        while code is not None and code not in levels:
            if code in chain:
                raise SndskitError(f"the tree has a cycle through {code!r}")
            chain.append(code)
            code = parents.get(code)
        depth = levels[code] if code is not None else 0
        for node in reversed(chain):
            depth += 1
            levels[node] = depth
    return levels


def clean_text(text: object) -> str:
    return " ".join(str(text or "").split())


def same_text(a: str, b: str) -> bool:
    """Equal but for case and accents (such variants are not worth a synonym)."""
    return normalise_text(a) == normalise_text(b)


# --- CCAM ---------------------------------------------------------------------------------


def _node_code(strate: str) -> str:
    """``"04.02.04.00"`` → ``"04.02.04"`` (trailing ``00`` groups removed).

    >>> _node_code("01.00.00.00"), _node_code("04.02.04.01")
    ('01', '04.02.04.01')
    """
    parts = strate.strip().split(".")
    while parts and parts[-1] == "00":
        parts.pop()
    return ".".join(parts)


def _read_tree(
    path: Path,
) -> tuple[dict[str, tuple[str, str | None]], dict[str, tuple[str, str]]]:
    """Nodes ``code → (label, parent code)`` and acts ``act → (node code, label)``."""
    raw: dict[str, tuple[str, str, str]] = {}  # internal id → (node code, label, parent id)
    act_rows: list[tuple[int, str, str, str, str]] = []
    for number, row in read_checked_json(path, ("code", "type", "strate", "parent")):
        kind = str(row["type"]).strip()
        strate = str(row["strate"]).strip()
        if not re.fullmatch(r"\d{2}(\.\d{2}){3}", strate):
            raise SndskitError(
                f"unreadable strate {strate!r} (expected 4 dotted pairs like 04.02.04.01)",
                file=path,
                line=number,
                field="strate",
            )
        if kind == "H":
            raw[str(row["code"]).strip()] = (
                _node_code(strate),
                clean_text(row.get("libelle")),
                str(row["parent"]).strip(),
            )
        elif kind == "A":
            act_rows.append(
                (
                    number,
                    str(row["code"]).strip(),
                    str(row["parent"]).strip(),
                    strate,
                    clean_text(row.get("libelle")),
                )
            )
        else:
            raise SndskitError(
                f"unknown row type {kind!r}",
                file=path,
                line=number,
                field="type",
                allowed=["H", "A"],
            )
    nodes: dict[str, tuple[str, str | None]] = {}
    for code, label, parent_id in raw.values():
        if not code:  # the 00.00.00.00 root ("ARBORESCENCE CCAM")
            continue
        parent = raw[parent_id][0] if parent_id in raw else None
        nodes[code] = (label, parent or None)
    acts: dict[str, tuple[str, str]] = {}
    for number, act, parent_id, strate, label in act_rows:
        if not ACT_CODE.match(act):
            continue
        node = raw[parent_id][0] if parent_id in raw else _node_code(strate)
        if node not in nodes:
            raise SndskitError(
                f"act {act} is attached to an unknown tree node {node!r}",
                file=path,
                line=number,
                field="parent",
            )
        acts[act] = (node, label)
    return nodes, acts


def _act_code(raw: str) -> str | None:
    """The 7-character act code of an ``IR_CCAM_V63`` cell, or None for a non-act row.

    >>> _act_code("JANH798\\n[A]"), _act_code("NT_09")
    ('JANH798', None)
    """
    first = raw.split()[0] if raw.split() else ""
    return first if ACT_CODE.match(first) else None


def load_ccam(root: Path) -> TerminologyBatch:
    """CCAM acts (7-character codes) and chapter tree nodes (``04``, ``04.02`` …)."""
    v63_path = root / V63_REL
    acts_path = root / ACTS_REL
    tree_path = root / TREE_REL

    labels: dict[str, str] = {}
    sources: dict[str, str] = {}
    valid_from: dict[str, date | None] = {}
    valid_to: dict[str, date | None] = {}
    synonyms: list[SynonymRow] = []
    parts: list[str] = []

    v63_labels: dict[str, str] = {}
    if v63_path.exists():
        for _, row in read_checked_csv(v63_path, ("CAM_PRS_IDE_COD", "CAM_PRS_IDE_LIB")):
            code = _act_code(row["CAM_PRS_IDE_COD"])
            if code is not None:
                v63_labels.setdefault(code, clean_text(row["CAM_PRS_IDE_LIB"]))
        parts.append("IR_CCAM_V63 (CCAM v63, schema-snds)")

    if acts_path.exists():
        latest: date | None = None
        for number, row in read_checked_json(acts_path, ("code", "libelle_long", "date_debut")):
            code = str(row["code"]).strip()
            if not ACT_CODE.match(code):
                continue
            labels[code] = clean_text(row["libelle_long"])
            sources[code] = ACTS_REL
            start = parse_date(row["date_debut"], path=acts_path, line=number, field="date_debut")
            valid_from[code] = start
            valid_to[code] = parse_date(
                row.get("date_fin"), path=acts_path, line=number, field="date_fin"
            )
            if start is not None and (latest is None or start > latest):
                latest = start
            short = clean_text(row.get("libelle_court"))
            if short and not same_text(short, labels[code]):
                synonyms.append(SynonymRow(VOCAB, code, short, "short_label", ACTS_REL))
        parts.append(
            "nomensland ccam_actes"
            + (f" (latest act start {latest.isoformat()})" if latest else "")
        )

    for code, label in v63_labels.items():
        if code not in labels:
            labels[code], sources[code] = label, V63_REL
        elif label and not same_text(label, labels[code]):
            synonyms.append(SynonymRow(VOCAB, code, label, "alt_label", V63_REL))

    nodes: dict[str, tuple[str, str | None]] = {}
    act_nodes: dict[str, str] = {}
    if tree_path.exists():
        nodes, tree_acts = _read_tree(tree_path)
        for code, (node, label) in tree_acts.items():
            act_nodes[code] = node
            if code not in labels:
                labels[code], sources[code] = label, TREE_REL
        parts.append("nomensland ccam_hierarchie_actes (chapter tree)")

    if not labels and not nodes:
        return TerminologyBatch([], [], [], {})

    parents: dict[str, str | None] = {code: parent for code, (_, parent) in nodes.items()}
    parents.update((code, act_nodes[code]) for code in labels if code in act_nodes)
    levels = tree_levels(parents)

    concepts = [
        ConceptRow(VOCAB, code, label, parent, levels[code], source=TREE_REL)
        for code, (label, parent) in sorted(nodes.items())
    ]
    for code in sorted(labels):
        concepts.append(
            ConceptRow(
                VOCAB,
                code,
                labels[code],
                act_nodes.get(code),
                levels.get(code),
                valid_from.get(code),
                valid_to.get(code),
                sources[code],
            )
        )
    return TerminologyBatch(concepts, synonyms, [], {VOCAB: " + ".join(parts)})
