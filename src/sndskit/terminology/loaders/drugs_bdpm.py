"""BDPM (ANSM public drug database) files: products, boxes, substances, generic groups.

The files are tab-separated, without header, Windows-1252 encoded, with CRLF or LF line
ends. Column layouts (ANSM, "Contenu et format des fichiers téléchargeables dans la
BDM"; 1-based, as checked against the 2022-06 extract):

``CIS_bdpm.txt`` (12): 1 CIS, 2 denomination, 3 pharmaceutical form, 4 routes, 5 marketing
authorisation (AMM) status, 6 procedure, 7 marketing state, 8 AMM date (DD/MM/YYYY),
9 BDM status, 10 EU authorisation number, 11 holder(s), 12 reinforced monitoring.

``CIS_CIP_bdpm.txt`` (13): 1 CIS, 2 CIP7, 3 box label, 4 box administrative status,
5 box marketing state, 6 date of that marketing declaration, 7 CIP13, 8 approval for
hospitals, 9 reimbursement rate(s), 10-12 prices and fee, 13 reimbursement indications.

``CIS_COMPO_bdpm.txt`` (8 + a trailing tab): 1 CIS, 2 pharmaceutical element, 3 substance
code, 4 substance name, 5 dosage, 6 dosage reference, 7 nature of the component (``SA``
active substance, ``FT`` therapeutic fraction), 8 number linking an SA to its FT.

``CIS_GENER_bdpm.txt`` (5 + a trailing tab): 1 generic group id, 2 group label, 3 CIS,
4 generic type (0 princeps, 1 generic, 2 complementary dosage, 4 substitutable),
5 sort order.

Benign quirks handled (not errors): blank lines; the trailing empty field; surrounding
spaces; a stray tab inside a free-text column (seen in the dosage of 3 COMPO lines and the
label of 2 GENER lines): identifiers are read from the left, the SA/FT nature and the GENER
CIS/type/order from the right; extra trailing columns of CIS_CIP (future price columns); an
exact repeat of a box line. A file that is valid UTF-8 is read as UTF-8 (re-saved copies).
Everything else that breaks the layout raises :class:`~sndskit.errors.SndskitError` with
the file and line.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sndskit.errors import SndskitError
from sndskit.terminology.loaders.common import parse_date
from sndskit.terminology.model import (
    REL_CIP7_OF_CIS,
    REL_CIP7_SAME_BOX_CIP13,
    REL_CIP13_OF_CIS,
    REL_CIS_HAS_SUBSTANCE,
    REL_CIS_IN_GENERIC_GROUP,
    ConceptRow,
    RelationRow,
    SynonymRow,
)

BDPM = "bdpm"
CIS_FILE, CIP_FILE, COMPO_FILE, GENER_FILE = (
    "CIS_bdpm.txt",
    "CIS_CIP_bdpm.txt",
    "CIS_COMPO_bdpm.txt",
    "CIS_GENER_bdpm.txt",
)
_CIS = re.compile(r"\d{8}")
_CIP7 = re.compile(r"\d{7}")
_CIP13 = re.compile(r"\d{13}")
_DIGITS = re.compile(r"\d+")
_STOPPED = ("arrêt de commercialisation", "arret de commercialisation")


def clean(text: str) -> str:
    """Collapse runs of white space."""
    return " ".join(text.split())


def read_bdpm(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line number, fields)`` for each non-blank line of a BDPM file."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise SndskitError(
                f"byte 0x{data[exc.start]:02x} is neither Windows-1252 nor UTF-8",
                file=path,
                line=line,
            ) from None
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if line.strip():
            yield number, line.split("\t")


def _need(path: Path, line: int, fields: list[str], count: int) -> None:
    if len(fields) < count:
        raise SndskitError(
            f"expected at least {count} tab-separated fields, found {len(fields)}",
            file=path,
            line=line,
        )


def _code(value: str, pattern: re.Pattern[str], path: Path, line: int, name: str) -> str:
    code = value.strip()
    if not pattern.fullmatch(code):
        raise SndskitError(f"{code!r} is not a valid {name} code", file=path, line=line, field=name)
    return code


@dataclass
class BdpmData:
    concepts: list[ConceptRow] = field(default_factory=list)
    synonyms: list[SynonymRow] = field(default_factory=list)
    relations: list[RelationRow] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    newest_date: date | None = None  # latest AMM date: a lower bound of the extract date
    cis_label: dict[str, str] = field(default_factory=dict)
    cis_routes: dict[str, frozenset[str]] = field(default_factory=dict)
    cip13_of_cis: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    cip7_of_cip13: dict[str, str] = field(default_factory=dict)
    # substance code -> Counter of names; SA codes of each CIS; FT names linked to an SA code
    substance_names: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    cis_active: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    fraction_names: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # CIS -> {substance or fraction name: dosage text ("500 mg", "0,267 g")}
    doses: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))

    def saw(self, day: date | None) -> None:
        if day is not None and (self.newest_date is None or day > self.newest_date):
            self.newest_date = day


def _products(path: Path, src: str, out: BdpmData) -> None:
    for line, f in read_bdpm(path):
        _need(path, line, f, 8)
        cis = _code(f[0], _CIS, path, line, "CIS")
        label = clean(f[1])
        if not label:
            raise SndskitError("empty denomination", file=path, line=line, field="denomination")
        amm = parse_date(f[7], path=path, line=line, field="date AMM")
        out.saw(amm)
        if cis not in out.cis_label:
            out.cis_label[cis] = label
            out.cis_routes[cis] = frozenset(clean(r).lower() for r in f[3].split(";") if r.strip())
            out.concepts.append(ConceptRow("CIS", cis, label, valid_from=amm, source=src))


def _boxes(path: Path, src: str, out: BdpmData) -> None:
    seen: dict[str, tuple[str, ...]] = {}
    for line, f in read_bdpm(path):
        _need(path, line, f, 7)
        cis = _code(f[0], _CIS, path, line, "CIS")
        cip7 = _code(f[1], _CIP7, path, line, "CIP7")
        cip13 = _code(f[6], _CIP13, path, line, "CIP13")
        key = (cis, cip7, *f[2:6])
        if cip13 in seen:
            if seen[cip13] == key:
                continue  # exact repeat of a box line
            raise SndskitError(f"CIP13 {cip13} listed twice", file=path, line=line, field="CIP13")
        seen[cip13] = key
        box = clean(f[2])
        state = f[4].strip().lower()
        day = parse_date(f[5], path=path, line=line, field="date of marketing declaration")
        # The date is that of the box's latest marketing declaration: its start when
        # marketed, its end when the box's marketing was stopped.
        stopped = any(word in state for word in _STOPPED)
        start, end = (None, day) if stopped else (day, None)
        product = out.cis_label.get(cis, "")
        label = f"{product} — {box}" if product and box else product or box or cip13
        out.concepts.append(ConceptRow("CIP13", cip13, label, None, None, start, end, src))
        out.concepts.append(ConceptRow("CIP7", cip7, label, None, None, start, end, src))
        out.relations += [
            RelationRow("CIP13", cip13, REL_CIP13_OF_CIS, "CIS", cis, source=src),
            RelationRow("CIP7", cip7, REL_CIP7_OF_CIS, "CIS", cis, source=src),
            RelationRow("CIP7", cip7, REL_CIP7_SAME_BOX_CIP13, "CIP13", cip13, source=src),
        ]
        out.cip13_of_cis[cis].append(cip13)
        out.cip7_of_cip13[cip13] = cip7


def _composition(path: Path, src: str, out: BdpmData) -> None:
    # (CIS, element, link number) -> SA codes / FT names, joined after the whole file
    sa_at: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    ft_at: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    pairs: set[tuple[str, str]] = set()
    for line, f in read_bdpm(path):
        _need(path, line, f, 8)
        cis = _code(f[0], _CIS, path, line, "CIS")
        code = _code(f[2], _DIGITS, path, line, "substance code")
        name = clean(f[3])
        # nature and link number: the last SA/FT field from column 7 on (a stray tab in
        # the dosage shifts them to the right)
        nature_at = next((i for i in range(len(f) - 1, 5, -1) if f[i].strip() in ("SA", "FT")), 0)
        if not nature_at or not name:
            raise SndskitError(
                "no substance name or no SA/FT nature of component",
                file=path,
                line=line,
                field="nature",
                allowed=["SA", "FT"],
            )
        nature = f[nature_at].strip()
        link = f[nature_at + 1].strip() if nature_at + 1 < len(f) else ""
        out.substance_names[code][name] += 1
        out.doses[cis].setdefault(name, clean(f[4]))
        where = (cis, clean(f[1]).lower(), link)
        if nature == "SA":
            pairs.add((cis, code))
            out.cis_active[cis].add(code)
            sa_at[where].append(code)
        else:
            ft_at[where].append(name)
    for where, names in ft_at.items():
        for code in sa_at.get(where, ()):
            out.fraction_names[code].update(names)
    for code, names in sorted(out.substance_names.items()):
        label, *others = [n for n, _ in names.most_common()]
        out.concepts.append(ConceptRow("SUBSTANCE", code, label, source=src))
        out.synonyms += [SynonymRow("SUBSTANCE", code, n, "alt_label", src) for n in others]
    out.relations += [
        RelationRow("CIS", cis, REL_CIS_HAS_SUBSTANCE, "SUBSTANCE", code, source=src)
        for cis, code in sorted(pairs)
    ]


def _generics(path: Path, src: str, out: BdpmData) -> None:
    labels: dict[str, str] = {}
    pairs: set[tuple[str, str]] = set()
    for line, f in read_bdpm(path):
        while f and not f[-1].strip():
            f.pop()  # trailing empty field(s)
        _need(path, line, f, 5)
        group = _code(f[0], _DIGITS, path, line, "generic group")
        cis = _code(f[-3], _CIS, path, line, "CIS")
        label = clean(" ".join(f[1:-3]))
        labels.setdefault(group, label)
        pairs.add((cis, group))
    out.concepts += [
        ConceptRow("GENERIC_GROUP", g, label or g, source=src) for g, label in labels.items()
    ]
    out.relations += [
        RelationRow("CIS", cis, REL_CIS_IN_GENERIC_GROUP, "GENERIC_GROUP", g, source=src)
        for cis, g in sorted(pairs)
    ]


def load_bdpm(root: Path) -> BdpmData:
    """Read whichever of the four BDPM files exist under ``root/bdpm``."""
    out = BdpmData()
    for name, reader in (
        (CIS_FILE, _products),
        (CIP_FILE, _boxes),
        (COMPO_FILE, _composition),
        (GENER_FILE, _generics),
    ):
        path = root / BDPM / name
        if path.is_file():
            reader(path, f"{BDPM}/{name}", out)
            out.files.append(path)
    return out
