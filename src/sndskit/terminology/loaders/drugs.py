"""Drug vocabularies: CIS, CIP13, CIP7, UCD, SUBSTANCE, GENERIC_GROUP and ATC.

:func:`load_drugs` reads, under a reference folder laid out like ``../shared/data``, each
source that exists (a missing file just means fewer concepts):

- BDPM files in ``bdpm/`` (products, boxes, composition, generic groups) — see
  :mod:`.drugs_bdpm` for the column layouts;
- UCD sources (``ORAREF/NU_UCD_R``, ``ORAREF/NU_ITE_R``, nomensland ``ucd_tot_table`` and
  the "liste en sus" history) — see :mod:`.drugs_ucd`;
- ``ORAVAL/IR_CIP_V``: the ATC class (2nd level, 3 characters) of CIP7 boxes, as
  ``CIP7_HAS_ATC`` (not inferred);
- ``DREES/IR_PHA_R`` (the SNDS drug referential, not public): when present, its
  ``PHA_CIP_C13`` → ``PHA_ATC_C07`` links become ``CIP13_HAS_ATC`` (not inferred).

ATC concepts are the codes found in those sources plus their ancestors (levels 1/3/4/5/7
characters; parent = the code cut to the previous level), and every code of the curated WHO
subset ``resources/terminology/atc_who_curated.csv`` (all groups of levels 1-2, levels 3-4
of the most studied areas, several hundred substances; see :mod:`.drugs_atc`). Labels
from the sources come first: an ATC label column (``PHA_ATC_LIB``, ``libelle_atc``,
``PHA_ATC_L07``/``L03``); else, for a 7-character code, the DCI of the UCDs coded with it
(the most frequent; the others become ``alt_label``); else the curated French label; else
the code with the note "no label in the sources". The curated English label is an
``english`` synonym, its French label (when not the label) and substance names
(``metformine`` for A10BA02) are ``alt_label`` synonyms.

Without ``IR_PHA_R``, the ATC of a box is **inferred** (``inferred=True``):

1. each substance gets a *moiety key*: the accent-free name of its therapeutic fraction
   (FT) when BDPM gives one (``CHLORHYDRATE DE METFORMINE`` → ``metformine``), else its
   own name; names are compared lower-case, accent-free, hydration words and ``base``
   dropped, ``X (SEL DE)`` read as ``SEL DE X``;
2. each 7-character ATC code gets substance sets from its ATC label and from the DCIs of
   its UCDs, split on ``/``, ``+`` and `` et `` and resolved through BDPM substance and
   fraction names; a set resolved from the ATC label is preferred to one from a DCI only;
3. a product (CIS) whose set of active-substance (SA) keys equals an ATC code's set gets
   ``CIS_HAS_ATC`` and its boxes ``CIP13_HAS_ATC``; substances whose key is a one-substance
   ATC set get ``SUBSTANCE_HAS_ATC``. A set shared by several ATC codes links to each;
4. products and substances that the UCD sources leave without ATC are matched the same way
   to the substance sets of the curated WHO subset (salt and ester words aside, see
   :mod:`.drugs_atc`; source "inferred from substances via curated WHO ATC subset").

Both paths check the product's routes (:func:`.drugs_atc.route_allows`: no systemic code
for a cream or eye drops). :func:`drug_atc_coverage` measures the coverage of boxes (and
checks it against ``IR_CIP_V``). ``UCD_HAS_SUBSTANCE`` (inferred) links a UCD to the BDPM
substances whose name equals a part of its DCI or of its 7-character ATC label.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from sndskit.errors import SndskitError
from sndskit.terminology.loaders.common import nomenclature_csv, read_reference_csv
from sndskit.terminology.loaders.drugs_atc import (
    CURATED_FILE,
    CURATED_SOURCE,
    CuratedAtc,
    infer_curated,
    name_key,
    read_curated_atc,
    route_allows,
)
from sndskit.terminology.loaders.drugs_bdpm import BdpmData, clean, load_bdpm
from sndskit.terminology.loaders.drugs_ucd import (
    ATC_LEVEL_BY_LENGTH,
    UcdData,
    atc_code,
    load_ucd,
)
from sndskit.terminology.model import (
    REL_CIP7_HAS_ATC,
    REL_CIP7_SAME_BOX_CIP13,
    REL_CIP13_HAS_ATC,
    REL_CIS_HAS_ATC,
    REL_SUBSTANCE_HAS_ATC,
    REL_UCD_HAS_SUBSTANCE,
    ConceptRow,
    RelationRow,
    SynonymRow,
    TerminologyBatch,
)
from sndskit.text import normalise_text

INFERRED_ATC = "inferred from substances via UCD ATC labels"
INFERRED_SUBSTANCE = "DCI matched to BDPM substance names (accent-free)"

_PARTS = re.compile(r"\s*(?:/|\+|\bet\b)\s*")
__all__ = ["drug_atc_coverage", "load_drugs", "name_key", "route_allows"]


def _parts(name: str) -> list[str]:
    return [p for p in _PARTS.split(normalise_text(name)) if p.strip()]


# --------------------------------------------------------------------------- ATC links


def _ir_cip_v(root: Path) -> tuple[list[RelationRow], list[Path]]:
    path = nomenclature_csv(root, "ORAVAL", "IR_CIP_V")
    if not path.is_file():
        return [], []
    src = "schema-snds/nomenclatures/ORAVAL/IR_CIP_V.csv"
    links = []
    for line, row in read_reference_csv(path, ("PHA_PRS_IDE", "PHA_ATC_CLA")):
        cip7 = row["PHA_PRS_IDE"].strip()
        if not cip7.isdigit() or len(cip7) > 7:
            raise SndskitError(f"{cip7!r} is not a CIP7", file=path, line=line, field="PHA_PRS_IDE")
        code = atc_code(row["PHA_ATC_CLA"])
        if code:
            links.append(
                RelationRow("CIP7", cip7.zfill(7), REL_CIP7_HAS_ATC, "ATC", code, False, src)
            )
    return links, [path]


def _ir_pha_r(
    root: Path, labels: dict[str, Counter[str]]
) -> tuple[list[ConceptRow], list[RelationRow], list[Path]]:
    """Box concepts and reference CIP13 → ATC links of IR_PHA_R; feeds ``labels``."""
    path = nomenclature_csv(root, "DREES", "IR_PHA_R")
    if not path.is_file():
        return [], [], []
    src = "schema-snds/nomenclatures/DREES/IR_PHA_R.csv"
    boxes: list[ConceptRow] = []
    links: list[RelationRow] = []
    for line, row in read_reference_csv(path, ("PHA_CIP_C13", "PHA_ATC_C07")):
        cip13 = row["PHA_CIP_C13"].strip()
        if not (cip13.isdigit() and len(cip13) == 13):
            raise SndskitError(
                f"{cip13!r} is not a CIP13", file=path, line=line, field="PHA_CIP_C13"
            )
        name = clean(row.get("PHA_MED_NOM") or row.get("PHA_NOM_COURT") or "") or cip13
        boxes.append(ConceptRow("CIP13", cip13, name, source=src))
        for code_col, label_col in (("PHA_ATC_C07", "PHA_ATC_L07"), ("PHA_ATC_C03", "PHA_ATC_L03")):
            code = atc_code(row.get(code_col))
            if code and clean(row.get(label_col) or ""):
                labels[code][clean(row[label_col])] += 1
        code = atc_code(row["PHA_ATC_C07"])
        if code:
            links.append(RelationRow("CIP13", cip13, REL_CIP13_HAS_ATC, "ATC", code, False, src))
    return boxes, links, [path]


def _infer(bdpm: BdpmData, ucd: UcdData) -> tuple[list[RelationRow], list[RelationRow]]:
    """(ATC relations of substances, products and boxes; UCD_HAS_SUBSTANCE relations)."""
    key: dict[str, str] = {}
    for code, names in bdpm.substance_names.items():
        fractions = bdpm.fraction_names.get(code)
        key[code] = name_key((fractions or names).most_common(1)[0][0])
    key_of_name: dict[str, set[str]] = defaultdict(set)
    code_of_name: dict[str, set[str]] = defaultdict(set)
    for code, names in bdpm.substance_names.items():
        for name in names:
            key_of_name[name_key(name)].add(key[code])
            code_of_name[name_key(name)].add(code)
        for name in bdpm.fraction_names.get(code, ()):
            key_of_name[name_key(name)].add(key[code])

    def signature(name: str) -> frozenset[str] | None:
        keys = [key_of_name.get(name_key(p), set()) for p in _parts(name)]
        if keys and all(len(k) == 1 for k in keys):
            return frozenset(next(iter(k)) for k in keys)
        return None

    strong: dict[frozenset[str], set[str]] = defaultdict(set)
    weak: dict[frozenset[str], set[str]] = defaultdict(set)
    for atc in set(ucd.atc_labels) | set(ucd.atc_dcis):
        if len(atc) != 7:
            continue
        for names, found in (
            (ucd.atc_labels.get(atc, ()), strong),
            (ucd.atc_dcis.get(atc, ()), weak),
        ):
            for name in names:
                sig = signature(name)
                if sig:
                    found[sig].add(atc)
    atc_of = {sig: strong.get(sig) or weak[sig] for sig in set(strong) | set(weak)}

    links: list[RelationRow] = []
    for code in sorted(bdpm.substance_names):
        for atc in sorted(atc_of.get(frozenset([key[code]]), ())):
            links.append(
                RelationRow(
                    "SUBSTANCE", code, REL_SUBSTANCE_HAS_ATC, "ATC", atc, True, INFERRED_ATC
                )
            )
    for cis in sorted(bdpm.cis_active):
        sig = frozenset(key[c] for c in bdpm.cis_active[cis])
        routes = bdpm.cis_routes.get(cis, frozenset())
        for atc in sorted(a for a in atc_of.get(sig, ()) if route_allows(routes, a)):
            links.append(RelationRow("CIS", cis, REL_CIS_HAS_ATC, "ATC", atc, True, INFERRED_ATC))
            links += [
                RelationRow("CIP13", box, REL_CIP13_HAS_ATC, "ATC", atc, True, INFERRED_ATC)
                for box in bdpm.cip13_of_cis.get(cis, ())
            ]

    ucd_links: set[tuple[str, str]] = set()
    atc_of_ucd: dict[str, set[str]] = defaultdict(set)
    for rel in ucd.relations:
        atc_of_ucd[rel.code_1].add(rel.code_2)
    for unit in sorted(set(ucd.ucd_dcis) | set(atc_of_ucd)):
        names = set(ucd.ucd_dcis.get(unit, ()))
        for atc in atc_of_ucd.get(unit, ()):
            if len(atc) == 7:
                names.update(ucd.atc_labels.get(atc, ()))
        for name in names:
            for part in _parts(name):
                ucd_links.update((unit, c) for c in code_of_name.get(name_key(part), ()))
    ucd_rel = [
        RelationRow("UCD", u, REL_UCD_HAS_SUBSTANCE, "SUBSTANCE", c, True, INFERRED_SUBSTANCE)
        for u, c in sorted(ucd_links)
    ]
    return links, ucd_rel


def _atc_concepts(
    codes: dict[str, set[str]],
    labels: dict[str, Counter[str]],
    dcis: dict[str, Counter[str]],
    curated: list[CuratedAtc],
) -> tuple[list[ConceptRow], list[SynonymRow]]:
    """ATC concepts for ``codes`` (code → source files), their ancestors and the curated
    WHO subset; labels from the sources first, curated labels and names as synonyms."""
    cuts = sorted(ATC_LEVEL_BY_LENGTH)
    every = {code: set(files) for code, files in codes.items()}
    for code in codes:
        for cut in cuts:
            if cut < len(code):
                every.setdefault(code[:cut], set())
    who = {row.code: row for row in curated}
    for code in who:
        every.setdefault(code, set()).add(CURATED_SOURCE)
    concepts, synonyms = [], []
    for code, files in sorted(every.items()):
        src = "; ".join(sorted(files)) or "derived: prefix of ATC codes in the sources"
        level = ATC_LEVEL_BY_LENGTH[len(code)]
        parent = code[: cuts[level - 2]] if level > 1 else None
        names = [n for n, _ in labels.get(code, Counter()).most_common()]
        unit_dcis = [n for n, _ in dcis.get(code, Counter()).most_common() if n not in names]
        # a 7-character code without ATC label takes its UCDs' DCI if they agree on one
        if len(code) == 7 and not names and len({name_key(n) for n in unit_dcis}) == 1:
            names, unit_dcis = unit_dcis, []
        row = who.get(code)
        if row and not names:
            names = [row.label_fr or row.label_en]
        label = names[0] if names else f"{code} (ATC level {level}; no label in the sources)"
        concepts.append(ConceptRow("ATC", code, label, parent, level, source=src))
        seen = {normalise_text(label)}
        extra = [(n, src) for n in names[1:] + (unit_dcis if len(code) == 7 else [])]
        if row:
            synonyms.append(SynonymRow("ATC", code, row.label_en, "english", CURATED_SOURCE))
            extra += [(row.label_fr, CURATED_SOURCE)]
            extra += [(" + ".join(s), CURATED_SOURCE) for s in row.substance_sets()]
        for name, name_src in extra:
            if name and normalise_text(name) not in seen:
                seen.add(normalise_text(name))
                synonyms.append(SynonymRow("ATC", code, name, "alt_label", name_src))
    return concepts, synonyms


# --------------------------------------------------------------------------- public API


def load_drugs(root: Path) -> TerminologyBatch:
    """All drug vocabularies found under the reference folder ``root``."""
    root = Path(root)
    bdpm = load_bdpm(root)
    ucd = load_ucd(root)
    cip7_links, cip_v_files = _ir_cip_v(root)
    pha_boxes, pha_links, pha_files = _ir_pha_r(root, ucd.atc_labels)

    concepts = bdpm.concepts + ucd.concepts
    known_cip13 = {c.code for c in concepts if c.vocabulary == "CIP13"}
    for box in pha_boxes:  # IR_PHA_R boxes absent from BDPM
        if box.code not in known_cip13:
            known_cip13.add(box.code)
            concepts.append(box)
    relations = bdpm.relations + ucd.relations + cip7_links + pha_links
    atc_links, ucd_links = _infer(bdpm, ucd)
    # the curated WHO subset completes the drug sources (not loaded without any of them)
    has_drugs = bool(bdpm.substance_names or ucd.atc_sources or cip7_links or pha_links)
    curated = read_curated_atc() if has_drugs else []
    if curated:
        linked = {(r.vocabulary_1, r.code_1) for r in atc_links}
        atc_links += infer_curated(
            bdpm,
            curated,
            {code for vocabulary, code in linked if vocabulary == "CIS"},
            {code for vocabulary, code in linked if vocabulary == "SUBSTANCE"},
        )
    if pha_files:  # reference box → ATC links: keep only the substance-level inference
        atc_links = [r for r in atc_links if r.relation == REL_SUBSTANCE_HAS_ATC]
    relations += atc_links + ucd_links

    atc_codes: dict[str, set[str]] = defaultdict(set)
    for rel in relations:
        if rel.vocabulary_2 == "ATC" and not rel.inferred:
            atc_codes[rel.code_2].update(rel.source.split("; "))
    atc_concepts, atc_synonyms = _atc_concepts(atc_codes, ucd.atc_labels, ucd.atc_dcis, curated)
    concepts += atc_concepts

    present = {(c.vocabulary, c.code) for c in concepts}
    relations = [
        r
        for r in dict.fromkeys(relations)
        if (r.vocabulary_1, r.code_1) in present and (r.vocabulary_2, r.code_2) in present
    ]
    batch = TerminologyBatch(concepts, bdpm.synonyms + ucd.synonyms + atc_synonyms, relations, {})
    batch.versions.update(_versions(batch, bdpm, ucd, cip_v_files + pha_files, bool(curated)))
    return batch


def _stem(path: Path | str) -> str:
    return Path(path).name.split(".")[0]


def _versions(
    batch: TerminologyBatch, bdpm: BdpmData, ucd: UcdData, extra: list[Path], curated: bool
) -> dict[str, str]:
    """One short line per vocabulary (file dates are left out: copies change them)."""
    filled = {c.vocabulary for c in batch.concepts}
    bdpm_text = "BDPM extract"
    if bdpm.newest_date:
        bdpm_text += f" (latest AMM {bdpm.newest_date.isoformat()})"
    versions = dict.fromkeys(("CIS", "CIP13", "CIP7", "SUBSTANCE", "GENERIC_GROUP"), bdpm_text)
    versions["UCD"] = ", ".join(_stem(p) for p in ucd.files)
    if ucd.newest_date:
        versions["UCD"] += f" (liste en sus up to {ucd.newest_date.isoformat()})"
    atc_files = sorted({_stem(s) for srcs in ucd.atc_sources.values() for s in srcs})
    atc_files += [_stem(p) for p in extra]
    parts = [f"{CURATED_FILE} (WHO 2024)"] if curated else []
    if atc_files:
        listed = "codes of " + ", ".join(atc_files)
        too_long = len(" + ".join([*parts, listed])) >= 120
        parts.append(f"codes of {len(atc_files)} SNDS sources" if too_long else listed)
    versions["ATC"] = " + ".join(parts)
    if "CIP13" in filled:
        cov = drug_atc_coverage(batch)
        reference = any(p.name.startswith("IR_PHA_R") for p in extra)
        how = "from IR_PHA_R" if reference else "inferred"
        versions["CIP13"] += f"; ATC {how} for {cov['cip13_with_atc_percent']} % of boxes"
        if curated and how == "inferred":
            versions["CIP13"] += f" (UCD sources + {CURATED_FILE})"
    return {v: text for v, text in versions.items() if v in filled}


def drug_atc_coverage(batch: TerminologyBatch) -> dict[str, Any]:
    """How many boxes (CIP13) and products (CIS) have an ATC code, and how it was obtained.

    ``agreeing_with_ir_cip_v`` counts, among the boxes with a CIP13 ATC and an ATC class in
    ``IR_CIP_V`` (through their CIP7), those whose ATC code starts with that class.
    """
    cip13 = {c.code for c in batch.concepts if c.vocabulary == "CIP13"}
    cis = {c.code for c in batch.concepts if c.vocabulary == "CIS"}
    atc_of: dict[str, set[str]] = defaultdict(set)
    how: dict[str, set[bool]] = defaultdict(set)
    cis_with_atc, class_of_cip7, cip7_of = set(), defaultdict(set), {}
    for r in batch.relations:
        if r.relation == REL_CIP13_HAS_ATC:
            atc_of[r.code_1].add(r.code_2)
            how[r.code_1].add(r.inferred)
        elif r.relation == REL_CIS_HAS_ATC:
            cis_with_atc.add(r.code_1)
        elif r.relation == REL_CIP7_HAS_ATC:
            class_of_cip7[r.code_1].add(r.code_2)
        elif r.relation == REL_CIP7_SAME_BOX_CIP13:
            cip7_of[r.code_2] = r.code_1
    with_atc = cip13 & set(atc_of)
    checked = [b for b in with_atc if class_of_cip7.get(cip7_of.get(b, ""))]
    agreeing = [
        b
        for b in checked
        if any(a.startswith(c) for a in atc_of[b] for c in class_of_cip7[cip7_of[b]])
    ]
    return {
        "cip13": len(cip13),
        "cip13_with_atc": len(with_atc),
        "cip13_with_atc_percent": round(100 * len(with_atc) / len(cip13), 1) if cip13 else 0.0,
        "cip13_with_reference_atc": sum(1 for b in with_atc if False in how[b]),
        "cip13_with_inferred_atc": sum(1 for b in with_atc if True in how[b]),
        "cip13_with_several_atc": sum(1 for b in with_atc if len(atc_of[b]) > 1),
        "cis": len(cis),
        "cis_with_atc": len(cis & cis_with_atc),
        "cip7_with_atc_class": len(class_of_cip7),
        "checked_against_ir_cip_v": len(checked),
        "agreeing_with_ir_cip_v": len(agreeing),
    }
