"""Curated WHO ATC subset and substance-name matching for the ATC inference.

``resources/terminology/atc_who_curated.csv`` (columns ``code, level, label_en, label_fr,
substance_fr, source``) holds a sourced subset of the WHO ATC classification: the 14
anatomical groups, every therapeutic subgroup (level 2), the level 3 and 4 groups of the
areas most studied in the SNDS and several hundred level 5 substances. ``substance_fr`` is
the French INN (DCI) as BDPM writes it; a combination lists its substances joined with
``" + "`` in alphabetical order; ``" | "`` separates names that mean the same substance in
one position (``ÉPOÉTINE ALFA | ÉPOÉTINE BÊTA`` for B03XA01, or the sulfonylureas of
A10BD02 "metformin and sulfonylureas").

A BDPM substance is matched to those names through its name *variants*: the name as
:func:`name_key` reads it, then without manufacturing words (``recombinante``,
``desséché``), then without salt, ester and counter-ion words (``chlorhydrate de``,
``sodique``, ``médoxomil``), and a lone ``-ate`` salt as its acid (``valproate`` →
``acide valproique``). A salt name (``SULFATE FERREUX``) is tried before its therapeutic
fractions (``FER``), and a salt with several fractions (sacubitril + valsartan complex)
stands for all of them. A few substances take their WHO code from the unit dose or the
routes of the product (:data:`DOSE_SPLITS`, :data:`ROUTE_SPLITS`: low-dose aspirin is
B01AC06, analgesic doses N02BA01; injected fentanyl is N01AH01, patches N02AB03).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable
from functools import cache
from importlib import resources
from itertools import product
from pathlib import Path
from typing import NamedTuple

from sndskit.errors import SndskitError
from sndskit.terminology.loaders.drugs_bdpm import BdpmData
from sndskit.terminology.model import (
    REL_CIP13_HAS_ATC,
    REL_CIS_HAS_ATC,
    REL_SUBSTANCE_HAS_ATC,
    RelationRow,
)
from sndskit.text import normalise_text

CURATED_FILE = "atc_who_curated.csv"
CURATED_SOURCE = f"resources/terminology/{CURATED_FILE}"
INFERRED_CURATED = "inferred from substances via curated WHO ATC subset"
COLUMNS = ("code", "level", "label_en", "label_fr", "substance_fr", "source")
ATC_CODE = re.compile(r"[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?")
LEVEL_OF_LENGTH = {1: 1, 3: 2, 4: 3, 5: 4, 7: 5}
PARENT_LENGTH = {2: 1, 3: 3, 4: 4, 5: 5}  # level -> length of the parent code

# fmt: off
_DROPPED_WORDS = frozenset((
    "anhydre", "base", "hemihydrate", "monohydrate", "dihydrate", "trihydrate", "tetrahydrate",
    "pentahydrate", "hexahydrate", "heptahydrate", "sesquihydrate", "hemipentahydrate",
))
_NOISE_WORDS = frozenset((
    "recombinante", "neutre", "desseche", "micronise", "micronisee", "anhydree", "hemihydratee",
    "monohydratee", "dihydratee", "trihydratee", "sesquihydratee", "hexahydratee", "heptahydratee",
))
_SALT_WORDS = frozenset((
    "de", "d", "du", "chlorhydrate", "dichlorhydrate", "bromhydrate", "maleate",
    "hydrogenomaleate", "tartrate", "hemitartrate", "bitartrate", "succinate", "hemisuccinate",
    "hydrogenosuccinate", "fumarate", "hemifumarate", "mesilate", "dimesilate", "besilate",
    "tosilate", "sulfate", "hemisulfate", "phosphate", "acetate", "citrate", "nitrate",
    "lactate", "gluconate", "oxalate", "malate", "embonate", "palmitate", "decanoate",
    "carbonate", "xinafoate", "trifenatate", "dipropionate", "sodique", "disodique",
    "monosodique", "potassique", "dipotassique", "calcique", "magnesique", "sodium",
    "potassium", "calcium", "magnesium", "lysine", "dl", "arginine", "tert", "butylamine",
    "erbumine", "meglumine", "cilexetil", "medoxomil", "mofetil", "axetil", "proxetil",
    "pivoxil", "etexilate", "acetonide", "hexacetonide",
))
# fmt: on
_INVERTED = re.compile(r"(.+?)\s*\(([^()]+?\b(?:de|du|des|d'))\s*\)\s*")


# Route sanity of an inferred ATC: an ATC group for a local use needs that route among the
# product's routes (a cream is not J02AB02), systemic groups need a systemic route (a
# rectal hydrocortisone enema is not H02AB09, a flurbiprofen lozenge not M01AE09), and a
# product used only on the eye, ear, skin, vagina or teeth only takes ATC groups of those uses.
# fmt: off
_EYE = frozenset((
    "ophtalmique", "intravitréenne", "sous-conjonctivale", "intra-camérulaire", "péribulbaire",
    "intra-oculaire", "sous-rétinienne",
))
_EAR, _SKIN = frozenset({"auriculaire"}), frozenset({"cutanée", "épilésionnelle"})
_VAGINA = frozenset({"vaginale"})
_MOUTH = frozenset(("dentaire", "gingivale", "buccogingivale"))
_SYSTEMIC = frozenset(("orale", "sublinguale", "intraveineuse", "intramusculaire", "sous-cutanée"))
_INJECTED_LOCALLY = frozenset((
    "intra-articulaire", "périarticulaire", "infiltration", "intralésionnelle", "intrabursale",
    "péridurale",
))
_SYSTEMIC_DERMATOLOGICALS = ("D01B", "D05B", "D10B", "D11AH")
_ROUTE_OF_ATC = (
    (("S01",), _EYE),
    (("S02",), _EAR),
    (("S03",), _EYE | _EAR),
    (("D",), _SKIN),
    (("R03A", "R03B"), frozenset({"inhalée"})),
    (("R03C", "R03D"), _SYSTEMIC),
    (("H02",), _SYSTEMIC | _INJECTED_LOCALLY),
    (("M01A",), _SYSTEMIC | {"rectale"}),
)
_ATC_OF_LOCAL_ROUTES = (
    (_EYE, ("S01", "S03")),
    (_EAR, ("S02", "S03")),
    (_SKIN, ("D", "M02", "N01B", "C05")),
    (_VAGINA, ("G01", "G02", "G03")),
    (_MOUTH, ("A01", "R02", "N01B")),
)
# fmt: on


def route_allows(routes: frozenset[str], atc: str) -> bool:
    """Whether an inferred ATC code fits a product's routes (unknown routes allow all).

    >>> oral, skin = frozenset({"orale"}), frozenset({"cutanée"})
    >>> route_allows(skin, "L01XX14"), route_allows(oral, "S01XA18")
    (False, False)
    >>> route_allows(oral, "L01XX14"), route_allows(oral, "D10BA01"), route_allows(skin, "D10AD01")
    (True, True, True)
    >>> route_allows(frozenset({"rectale"}), "H02AB09"), route_allows(skin, "M01AE03")
    (False, False)
    """
    if not routes:
        return True
    local_d = atc.startswith("D") and not atc.startswith(_SYSTEMIC_DERMATOLOGICALS)
    for prefixes, needed in _ROUTE_OF_ATC:
        if atc.startswith(prefixes) and (prefixes != ("D",) or local_d) and not routes & needed:
            return False
    if routes <= _EYE | _EAR | _SKIN | _VAGINA | _MOUTH:
        allowed = [p for local, ps in _ATC_OF_LOCAL_ROUTES if routes & local for p in ps]
        return atc.startswith(tuple(allowed)) and (not atc.startswith("D") or local_d)
    return True


@cache
def name_key(name: str) -> str:
    """Comparison form of a substance name.

    >>> name_key("RANITIDINE (CHLORHYDRATE DE)") == name_key("Chlorhydrate de ranitidine")
    True
    >>> name_key("DIPROPIONATE DE BÉCLOMÉTASONE ANHYDRE")
    'dipropionate de beclometasone'
    """
    text = normalise_text(name).replace("’", "'")
    inverted = _INVERTED.fullmatch(text)
    if inverted:
        text = f"{inverted.group(2)} {inverted.group(1)}"
    words = re.findall(r"[a-z0-9]+", text)
    return " ".join("alfa" if w == "alpha" else w for w in words if w not in _DROPPED_WORDS)


def name_variants(name: str, *, exact: bool = False) -> list[str]:
    """Forms of a BDPM substance name to look up in the curated names, most exact first
    (``exact``: only the name and the name without manufacturing words).

    >>> name_variants("VALPROATE DE SODIUM")
    ['valproate de sodium', 'valproate', 'acide valproique']
    >>> name_variants("ACÉTYLSALICYLIQUE (ACIDE)")
    ['acide acetylsalicylique']
    >>> name_variants("SULFATE FERREUX DESSÉCHÉ")
    ['sulfate ferreux desseche', 'sulfate ferreux', 'ferreux']
    """
    key = name_key(name)
    if key.endswith(" acide"):  # ACÉTYLSALICYLIQUE (ACIDE)
        key = "acide " + key[: -len(" acide")]
    plain = [w for w in key.split() if w not in _NOISE_WORDS]
    bare = [w for w in plain if w not in _SALT_WORDS]
    found = [key, " ".join(plain)]
    if bare and not exact:
        found.append(" ".join(bare))
        if len(bare) == 1 and len(bare[0]) > 5 and bare[0].endswith("ate"):
            found.append(f"acide {bare[0][:-3]}ique")
    return list(dict.fromkeys(v for v in found if v))


class CuratedAtc(NamedTuple):
    code: str
    level: int
    label_en: str
    label_fr: str
    substance_fr: str
    source: str

    def substance_sets(self) -> list[tuple[str, ...]]:
        """Each substance combination the code stands for, as curated names.

        >>> row = CuratedAtc("A10BD02", 5, "", "", "GLICLAZIDE | GLIPIZIDE + METFORMINE", "")
        >>> row.substance_sets()
        [('GLICLAZIDE', 'METFORMINE'), ('GLIPIZIDE', 'METFORMINE')]
        """
        if not self.substance_fr:
            return []
        parts = [[a.strip() for a in p.split(" | ")] for p in self.substance_fr.split(" + ")]
        return list(product(*parts))


def read_curated_atc(path: Path | None = None) -> list[CuratedAtc]:
    """Rows of the curated WHO ATC subset, checked (format, levels, parents, duplicates)."""
    where = path or resources.files("sndskit") / "resources" / "terminology" / CURATED_FILE
    shown = Path(str(where))
    with where.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise SndskitError("unexpected columns", file=shown, line=1, allowed=list(COLUMNS))
        rows: dict[str, CuratedAtc] = {}
        for raw in reader:
            line = reader.line_num
            code = (raw["code"] or "").strip()
            level = LEVEL_OF_LENGTH.get(len(code))
            if not ATC_CODE.fullmatch(code) or str(level) != (raw["level"] or "").strip():
                raise SndskitError(
                    f"{code!r} is not an ATC code of level {raw['level']!r}",
                    file=shown,
                    line=line,
                    field="code",
                )
            if code in rows:
                raise SndskitError(f"ATC code {code} listed twice", file=shown, line=line)
            if level > 1 and code[: PARENT_LENGTH[level]] not in rows:
                raise SndskitError(
                    f"parent of {code} missing (rows must be sorted by code)",
                    file=shown,
                    line=line,
                    field="code",
                )
            texts = {c: " ".join((raw[c] or "").split()) for c in COLUMNS[2:]}
            if not texts["label_en"] or bool(texts["substance_fr"]) != (level == 5):
                raise SndskitError(
                    "every code needs label_en; substance_fr is for level 5 only",
                    file=shown,
                    line=line,
                    field="substance_fr",
                )
            rows[code] = CuratedAtc(code, level, **texts)
    return list(rows.values())


class CuratedMatcher:
    """Maps BDPM substances to curated substance names and products to curated codes."""

    def __init__(
        self,
        rows: Iterable[CuratedAtc],
        substance_names: dict[str, Counter[str]],
        fraction_names: dict[str, Counter[str]],
    ) -> None:
        self.codes_of: dict[frozenset[str], set[str]] = {}
        known: set[str] = set()
        for row in rows:
            for names in row.substance_sets():
                keys = frozenset(name_key(n) for n in names)
                known |= keys
                self.codes_of.setdefault(keys, set()).add(row.code)
        self._known = known
        self._names = substance_names
        self._fractions = fraction_names
        self._cache: dict[str, frozenset[str] | None] = {}

    def _hit(self, name: str, *, exact: bool) -> str | None:
        for variant in name_variants(name, exact=exact):
            if variant in self._known:
                return variant
        return None

    def moieties(self, substance: str) -> frozenset[str] | None:
        """Curated names a BDPM substance code stands for (None: not curated)."""
        if substance in self._cache:
            return self._cache[substance]
        names = self._names.get(substance, Counter())
        exact = {hit for n in names if (hit := self._hit(n, exact=True))}
        fractions = [self._hit(n, exact=False) for n in self._fractions.get(substance, ())]
        found: frozenset[str] | None = None
        if len(exact) == 1:  # the salt itself is curated (SULFATE FERREUX)
            found = frozenset(exact)
        elif fractions and all(fractions):  # every fraction is (sacubitril + valsartan)
            found = frozenset(f for f in fractions if f)
        else:  # its name without salt words
            loose = {hit for n in names if (hit := self._hit(n, exact=False))}
            found = frozenset(loose) if len(loose) == 1 else None
        self._cache[substance] = found
        return found

    def product_set(self, substances: Iterable[str]) -> frozenset[str] | None:
        """Curated names of a product's active substances, or None if one is unknown."""
        found: set[str] = set()
        for substance in substances:
            names = self.moieties(substance)
            if names is None:
                return None
            found |= names
        return frozenset(found) if found else None


# One-substance products whose WHO code depends on the unit dose: (curated name, highest
# low dose in mg, code of low doses or None, code of higher doses). Low-dose acetylsalicylic
# acid (Kardégic 75-300 mg) is an antiplatelet agent, higher doses (Aspégic 500 mg, 1 g)
# an analgesic; everolimus up to 1 mg (Certican) prevents transplant rejection, 2 mg and
# more (Afinitor, Votubia) is an antineoplastic; lithium in trace-element ampoules (1 mg,
# Oligosol) is not an antipsychotic.
DOSE_SPLITS = (
    ("acide acetylsalicylique", 300.0, "B01AC06", "N02BA01"),
    ("everolimus", 1.0, "L04AH02", "L01EG02"),
    ("lithium", 10.0, None, "N05AN01"),
)
# ... and on the routes: (curated name, routes, code when the product has only those routes,
# code otherwise). Fentanyl injections are an anaesthetic, its patches, sprays and buccal
# tablets an analgesic; a rectal glyceryl trinitrate ointment treats anal fissures.
_INJECTED = frozenset(("intraveineuse", "intramusculaire", "péridurale", "intrathécale"))
ROUTE_SPLITS = (
    ("fentanyl", _INJECTED, "N01AH01", "N02AB03"),
    ("trinitrine", frozenset({"rectale"}), "C05AE01", "C01DA02"),
)
_DOSE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(mg|g)\b")


def dose_mg(text: str) -> float | None:
    """Unit dose in mg of a BDPM dosage text.

    >>> dose_mg("0,267 g"), dose_mg("75 mg"), dose_mg("500,00 mg"), dose_mg("10 %")
    (267.0, 75.0, 500.0, None)
    """
    found = _DOSE.search(normalise_text(text))
    if not found:
        return None
    value = float(found.group(1).replace(",", "."))
    return value * 1000 if found.group(2) == "g" else value


def _split(
    names: frozenset[str], doses: dict[str, str], routes: frozenset[str], codes: set[str]
) -> set[str]:
    """``codes`` of a product, minus those that its dose or routes rule out."""
    for name, highest_low, low, high in DOSE_SPLITS:
        if names == {name} and high in codes:
            # the dose of the moiety itself (FT row) when given, else that of its salt
            found = [
                (name in name_variants(label, exact=True), dose_mg(text))
                for label, text in doses.items()
                if name in name_variants(label)
            ]
            exact = {mg for is_exact, mg in found if is_exact and mg is not None}
            mg = exact or {mg for _, mg in found if mg is not None}
            if len(mg) == 1:
                codes = codes - {high if mg.pop() <= highest_low else low}
    for name, only, inside, outside in ROUTE_SPLITS:
        if names == {name} and routes:
            codes = codes - {outside if routes <= only else inside}
    return codes


def infer_curated(
    bdpm: BdpmData,
    rows: Iterable[CuratedAtc],
    skip_products: set[str],
    skip_substances: set[str],
) -> list[RelationRow]:
    """CIS, CIP13 and SUBSTANCE → ATC links (inferred) from the curated substance sets.

    Products and substances in the ``skip`` sets (already linked through the UCD sources,
    which keep priority) are left alone.
    """
    matcher = CuratedMatcher(rows, bdpm.substance_names, bdpm.fraction_names)
    links: list[RelationRow] = []
    for code in sorted(bdpm.substance_names):
        names = matcher.moieties(code)
        if code in skip_substances or not names or len(names) != 1:
            continue
        links += [
            RelationRow(
                "SUBSTANCE", code, REL_SUBSTANCE_HAS_ATC, "ATC", atc, True, INFERRED_CURATED
            )
            for atc in sorted(matcher.codes_of.get(names, ()))
        ]
    for cis in sorted(bdpm.cis_active):
        names = matcher.product_set(bdpm.cis_active[cis])
        if cis in skip_products or names not in matcher.codes_of:
            continue
        routes = bdpm.cis_routes.get(cis, frozenset())
        codes = {a for a in matcher.codes_of[names] if route_allows(routes, a)}
        for atc in sorted(_split(names, bdpm.doses.get(cis, {}), routes, codes)):
            links.append(
                RelationRow("CIS", cis, REL_CIS_HAS_ATC, "ATC", atc, True, INFERRED_CURATED)
            )
            links += [
                RelationRow("CIP13", box, REL_CIP13_HAS_ATC, "ATC", atc, True, INFERRED_CURATED)
                for box in bdpm.cip13_of_cis.get(cis, ())
            ]
    return links
