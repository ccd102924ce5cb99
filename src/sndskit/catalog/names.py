"""SNDS table names: per-year PMSI tables, yearly cartography tables and DCIR archives.

The schema describes year-templated tables (``T_MCOaaB``, ``CT_IDE_AAAA_GN``) while data
holds concrete ones (``T_MCO19B``, ``CT_IDE_2019_GN``); DCIR history before 2013 lives in
archive tables such as ``ER_PRS_F_2012``. This module maps one to the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PMSI = re.compile(r"^T_(MCO|SSR|HAD|RIP|SUP)(\d{2})(\w+)$", re.IGNORECASE)
_PMSI_TEMPLATE = re.compile(r"^T_(MCO|SSR|HAD|RIP|SUP)aa(\w+)$")
_CARTO = re.compile(r"^(CT_[A-Z]{3})_(\d{4})_GN$", re.IGNORECASE)
_DCIR_ARCHIVE = re.compile(r"^(E[RB]_[A-Z]{3}_F)_(\d{4})$", re.IGNORECASE)


@dataclass(frozen=True)
class TableName:
    """A concrete table name resolved to its schema template and, if any, its year.

    >>> resolve_table_name("t_mco19b")
    TableName(template='T_MCOaaB', year=2019, physical='T_MCO19B')
    >>> resolve_table_name("ER_PRS_F_2012")
    TableName(template='ER_PRS_F', year=2012, physical='ER_PRS_F_2012')
    """

    template: str
    year: int | None
    physical: str


def resolve_table_name(name: str) -> TableName:
    """Map a physical name to its template; other names map to themselves, upper-cased.

    Catalogue look-ups are case-insensitive, so ``T_MCOAAB`` still finds ``T_MCOaaB``.
    """
    raw = name.strip()
    if m := _PMSI.match(raw):
        field, yy, suffix = m.groups()
        return TableName(f"T_{field.upper()}aa{suffix.upper()}", 2000 + int(yy), raw.upper())
    if m := _CARTO.match(raw):
        prefix, year = m.groups()
        return TableName(f"{prefix.upper()}_AAAA_GN", int(year), raw.upper())
    if m := _DCIR_ARCHIVE.match(raw):
        prefix, year = m.groups()
        return TableName(prefix.upper(), int(year), raw.upper())
    if _PMSI_TEMPLATE.match(raw):
        return TableName(raw, None, raw)
    return TableName(raw.upper(), None, raw.upper())


def instantiate(template: str, year: int | None, *, dcir_archive: bool = False) -> str:
    """Concrete name of ``template`` for ``year`` (templates without a year are unchanged).

    With ``dcir_archive``, DCIR flow tables get the archive suffix (``ER_PRS_F_2012``).

    >>> instantiate("T_MCOaaD", 2019), instantiate("CT_IDE_AAAA_GN", 2021)
    ('T_MCO19D', 'CT_IDE_2021_GN')
    >>> instantiate("IR_BEN_R", 2019)
    'IR_BEN_R'
    >>> instantiate("ER_PRS_F", 2012, dcir_archive=True)
    'ER_PRS_F_2012'
    """
    if year is None:
        return template
    if dcir_archive and _DCIR_ARCHIVE.match(f"{template}_{year}"):
        return f"{template}_{year}"
    if m := _PMSI_TEMPLATE.match(template):
        return f"T_{m.group(1)}{year % 100:02d}{m.group(2)}"
    if template.endswith("_AAAA_GN"):
        return template.replace("AAAA", str(year))
    return template


def is_year_templated(template: str) -> bool:
    return bool(_PMSI_TEMPLATE.match(template)) or template.endswith("_AAAA_GN")
