"""Drug boxes: pack size read from the BDPM label, and the boxes a dispensing can use.

A dispensing covers one month of treatment (one box of 28-30 days, or 2-3 smaller boxes)
or three months with a large box (Code de la santé publique, article R5123-2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sndskit.synthetic.definitions import DrugDefinition
from sndskit.text import normalise_text

_UNIT = (
    r"(?:comprimés?|comprimé\(s\)|gélules?|gélule\(s\)|capsules?|capsule\(s\)|sachets?|"
    r"sachet\(s\)|seringues?|seringue\(s\)|stylos?|stylo\(s\)|cartouches?|cartouche\(s\)|"
    r"ampoules?|ampoule\(s\)|doses?|dose\(s\)|bouffées?|bouffée\(s\)|suppositoires?|"
    r"suppositoire\(s\)|lyophilisats?|pastilles?|pastille\(s\)|flacon\(s\)|flacons?)"
)
_UNITS = re.compile(r"(\d+)\s+" + _UNIT)
_MULTIPLIER = re.compile(r"\s*(\d+)\s+(?:plaquette|étui|boîte|blister)")


def pack_units(label: str) -> int | None:
    """Number of units (tablets, pens, doses …) in a box, read from its BDPM label.

    >>> pack_units("METFORMINE EG 850 mg, comprimé — plaquette(s) PVC de 30 comprimé(s)")
    30
    >>> pack_units("ENTRESTO 49 mg/51 mg, comprimé — 4 plaquette(s) PVC de 14 comprimé(s)")
    56
    >>> pack_units("TRULICITY 1,5 mg — 4 seringue(s) préremplie(s) en verre de 0,5 ml")
    4
    """
    pack = label.split(" — ", 1)[1] if " — " in label else label
    found = _UNITS.findall(pack)
    if not found:
        return None
    units = int(found[-1])
    multiplier = _MULTIPLIER.match(pack)
    if multiplier and int(multiplier.group(1)) > 1:
        units *= int(multiplier.group(1))
    return units if units > 0 else None


MONTH_DAYS_MIN, MONTH_DAYS_MAX = 25, 36  # one dispensing = about one month …
QUARTER_DAYS = (75, 105)  # … or three months with a large box (R5123-2 CSP)


@dataclass
class DrugBoxes:
    """The boxes of one drug: parallel lists, with the supply in days of each box."""

    drug_id: str
    atc: str
    cip13: list[str]
    cip7: list[str | None]
    units: list[int]
    supply_days: list[float]
    method: str  # "atc", "substance", "atc+substance" or "fallback"

    @property
    def small(self) -> list[int]:
        return [i for i, s in enumerate(self.supply_days) if s < 60]

    @property
    def large(self) -> list[int]:
        return [i for i, s in enumerate(self.supply_days) if s >= 60]


def select_boxes(
    drug: DrugDefinition, candidates: list[tuple[str, str | None, str]], *, acute: bool
) -> tuple[list[str], list[str | None], list[int], list[float]] | None:
    """Up to 4 one-month and 2 three-month boxes, spread over the sorted candidates.

    A dispensing covers one month (one box of 28-30 days of treatment, or two or three
    smaller boxes) or three months (one large box): boxes whose supply fits neither (a
    45-day box) are left out, as are injectable forms unless the drug is injectable.
    """
    filters = [normalise_text(f) for f in drug.label_filter]
    small, large = [], []
    for code, cip7, label in candidates:
        text = normalise_text(label)
        if filters and not any(f in text for f in filters):
            continue
        if not drug.injectable and ("injectable" in text or "perfusion" in text):
            continue
        units = pack_units(label)
        if units is None:
            continue
        supply = units / drug.units_per_day * drug.supply_factor
        if acute:
            if 1 <= supply <= 120:
                small.append((code, cip7, units, supply))
            continue
        per_dispensing = max(1, -(-MONTH_DAYS_MIN // supply)) if supply > 0 else 0
        if MONTH_DAYS_MIN <= per_dispensing * supply <= MONTH_DAYS_MAX and per_dispensing <= 3:
            small.append((code, cip7, units, supply))
        elif QUARTER_DAYS[0] <= supply <= QUARTER_DAYS[1]:
            large.append((code, cip7, units, supply))
    chosen = _spread(small, 4) + _spread(large, 2)
    if not chosen:
        return None
    return (
        [c[0] for c in chosen],
        [c[1] for c in chosen],
        [c[2] for c in chosen],
        [c[3] for c in chosen],
    )


def _spread(items: list, k: int) -> list:
    if len(items) <= k:
        return items
    step = len(items) / k
    return [items[int(i * step)] for i in range(k)]
