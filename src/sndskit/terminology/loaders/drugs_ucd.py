"""UCD (hospital dispensing units) and the ATC codes and names they carry.

Sources, each optional: ``ORAREF/NU_UCD_R`` (designation, packaging), ``ORAREF/NU_ITE_R``
(labels, ``PHA_ATC_CLA`` ATC code with its French label ``PHA_ATC_LIB``), nomensland
``ucd_tot_table`` (labels, ``code_atc``/``libelle_atc``) and
``mco_medref_atih_historique_liste_ucd`` (history of the "liste en sus": ``libelleucd``,
``denominationcommuneinternationale`` (DCI), ``codeatc``, official ``ucd13``).

A UCD is stored under the SNDS 13-character form ``000000`` + UCD7 (``ER_UCD_F.UCD_UCD_COD``);
its UCD7 and the official GS1 UCD13 (``34008…``, when a source gives it) are ``alt_code``
synonyms, so a search by either finds it.

Benign quirks (skipped, not errors): ATC fields that are not an ATC code (``non encore
attribué``, empty) or carry non-breaking spaces (cleaned); an official UCD13 mangled into
``3,40089E+12`` by a spreadsheet (ignored, the UCD7 is there). A UCD code that is not one of
the accepted forms raises :class:`~sndskit.errors.SndskitError`.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sndskit.errors import SndskitError
from sndskit.terminology.loaders.common import (
    nomenclature_csv,
    parse_date,
    read_gzip_json_list,
    read_reference_csv,
)
from sndskit.terminology.loaders.drugs_bdpm import clean
from sndskit.terminology.model import REL_UCD_HAS_ATC, ConceptRow, RelationRow, SynonymRow
from sndskit.text import normalise_text

ATC_CODE = re.compile(r"[A-Z](\d\d([A-Z]([A-Z](\d\d)?)?)?)?")
ATC_LEVEL_BY_LENGTH = {1: 1, 3: 2, 4: 3, 5: 4, 7: 5}
NOMENSLAND = "nomensland"
UCD_TOT = f"{NOMENSLAND}/ucd_tot_table.json.gz"
UCD_MEDREF = f"{NOMENSLAND}/mco_medref_atih_historique_liste_ucd.json.gz"


def atc_code(value: Any) -> str | None:
    """The ATC code in a source field, or None when the field holds none.

    >>> atc_code("L01AA09 \\xa0"), atc_code("non encore attribué"), atc_code("a10ba02")
    ('L01AA09', None, 'A10BA02')
    """
    text = re.sub(r"\s+", "", str(value or "")).upper()
    return text if ATC_CODE.fullmatch(text) else None


def ucd13(value: Any, *, path: Path, line: int, field: str) -> str:
    """SNDS 13-character UCD (``000000`` + UCD7) from a UCD7, a UCD13 or a GS1 ``34008`` code.

    >>> ucd13("9000294", path=Path("x"), line=1, field="f")
    '0000009000294'
    >>> ucd13("34008 9000294 3", path=Path("x"), line=1, field="f")
    '0000009000294'
    """
    text = re.sub(r"\s+", "", str(value or ""))
    if text.isdigit():
        if len(text) <= 7:
            return "000000" + text.zfill(7)
        if len(text) == 13 and text.startswith("000000"):
            return text
        if len(text) == 13 and text.startswith("34008"):
            return "000000" + text[5:12]
    raise SndskitError(
        f"{value!r} is not a UCD code (UCD7, 000000+UCD7 or 34008 UCD13)",
        file=path,
        line=line,
        field=field,
    )


@dataclass
class UcdData:
    concepts: list[ConceptRow] = field(default_factory=list)
    synonyms: list[SynonymRow] = field(default_factory=list)
    relations: list[RelationRow] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    newest_date: date | None = None
    # ATC code -> class labels (ATC label columns), -> DCIs of the UCDs coded with it
    atc_labels: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    atc_dcis: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    ucd_dcis: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    atc_sources: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


class _Ucd:
    __slots__ = ("atc", "codes", "labels", "short")

    def __init__(self) -> None:
        self.labels: list[tuple[str, str]] = []  # (label, source), in priority order
        self.short: list[tuple[str, str]] = []
        self.codes: set[tuple[str, str]] = set()  # (official UCD13, source)
        self.atc: set[tuple[str, str]] = set()  # (ATC code, source)


def _rcp_label(*parts: str) -> str:
    """``UCD_RCP_LI1..3`` are one label cut every 100 characters."""
    text = ""
    for part in parts:
        part = part.strip()
        if part:
            text += (" " if text and text[-1] in ",.;:" else "") + part
    return clean(text)


def load_ucd(root: Path) -> UcdData:
    out = UcdData()
    units: dict[str, _Ucd] = defaultdict(_Ucd)

    def atc(code13: str, raw: Any, label: Any, src: str) -> None:
        code = atc_code(raw)
        if code:
            units[code13].atc.add((code, src))
            out.atc_sources[code].add(src)
            if label and clean(str(label)):
                out.atc_labels[code][clean(str(label))] += 1

    folder = "schema-snds/nomenclatures/ORAREF"
    path = nomenclature_csv(root, "ORAREF", "NU_ITE_R")
    if path.is_file():
        src = f"{folder}/NU_ITE_R.csv"
        out.files.append(path)
        need = ("UCD_UCD_COD", "UCD_SPE_LIB", "UCD_RCP_LI1", "PHA_ATC_CLA", "PHA_ATC_LIB")
        for line, row in read_reference_csv(path, need):
            code = ucd13(row["UCD_UCD_COD"], path=path, line=line, field="UCD_UCD_COD")
            unit = units[code]
            li = (row["UCD_RCP_LI1"], row.get("UCD_RCP_LI2") or "", row.get("UCD_RCP_LI3") or "")
            unit.labels.append((_rcp_label(*li), src))
            unit.short.append((clean(row["UCD_SPE_LIB"]), src))
            atc(code, row["PHA_ATC_CLA"], row["PHA_ATC_LIB"], src)

    path = root / UCD_TOT
    if path.is_file():
        out.files.append(path)
        for i, rec in enumerate(read_gzip_json_list(path), start=1):
            code = ucd13(rec.get("code_ucd"), path=path, line=i, field="code_ucd")
            unit = units[code]
            unit.labels.append((clean(rec.get("libelle_long_rcp") or ""), UCD_TOT))
            unit.labels.append((clean(rec.get("libelle_long_ucd") or ""), UCD_TOT))
            unit.short.append((clean(rec.get("libelle_court_specialite") or ""), UCD_TOT))
            atc(code, rec.get("code_atc"), rec.get("libelle_atc"), UCD_TOT)

    path = nomenclature_csv(root, "ORAREF", "NU_UCD_R")
    if path.is_file():
        src = f"{folder}/NU_UCD_R.csv"
        out.files.append(path)
        for line, row in read_reference_csv(path, ("UCD_UCD_COD", "UCD_DSN_LIB")):
            code = ucd13(row["UCD_UCD_COD"], path=path, line=line, field="UCD_UCD_COD")
            name, pack = clean(row["UCD_DSN_LIB"]), clean(row.get("UCD_CND_LIB") or "")
            units[code].labels.append((f"{name}, {pack}" if name and pack else name, src))

    path = root / UCD_MEDREF
    if path.is_file():
        out.files.append(path)
        records = []
        for i, rec in enumerate(read_gzip_json_list(path), start=1):
            code = ucd13(rec.get("ucd7"), path=path, line=i, field="ucd7")
            day = parse_date(rec.get("datepublication"), path=path, line=i, field="datepublication")
            out.newest_date = max(filter(None, (out.newest_date, day)), default=None)
            records.append((day or date.min, i, code, rec))
        for _, _, code, rec in sorted(records, key=lambda r: r[:2], reverse=True):  # newest first
            unit = units[code]
            unit.short.append((clean(rec.get("libelleucd") or ""), UCD_MEDREF))
            official = re.sub(r"\s+", "", str(rec.get("ucd13") or ""))
            if official.isdigit() and len(official) == 13 and official[5:12] == code[6:]:
                unit.codes.add((official, UCD_MEDREF))
            dci = clean(rec.get("denominationcommuneinternationale") or "")
            if dci:
                out.ucd_dcis[code].add(dci)
            atc(code, rec.get("codeatc"), None, UCD_MEDREF)
            if dci and atc_code(rec.get("codeatc")):
                out.atc_dcis[atc_code(rec.get("codeatc"))][dci] += 1  # type: ignore[index]

    for code, unit in sorted(units.items()):
        labels = [(text, src) for text, src in unit.labels if text]
        shorts = [(text, src) for text, src in unit.short if text]
        label, src = (labels or shorts or [(code, "")])[0]
        out.concepts.append(ConceptRow("UCD", code, label, source=src))
        seen = {normalise_text(label)}
        for kind, texts in (("short_label", shorts), ("alt_label", labels)):
            for text, text_src in texts:
                if normalise_text(text) not in seen:
                    seen.add(normalise_text(text))
                    out.synonyms.append(SynonymRow("UCD", code, text, kind, text_src))
        out.synonyms.append(SynonymRow("UCD", code, code[6:], "alt_code", src))
        out.synonyms += [SynonymRow("UCD", code, c, "alt_code", s) for c, s in sorted(unit.codes)]
        pairs: dict[str, list[str]] = defaultdict(list)
        for atc_, atc_src in sorted(unit.atc):
            pairs[atc_].append(atc_src)
        out.relations += [
            RelationRow("UCD", code, REL_UCD_HAS_ATC, "ATC", a, source="; ".join(s))
            for a, s in pairs.items()
        ]
    return out
