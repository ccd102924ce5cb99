"""GHM (PMSI homogeneous patient groups) and CMD (major diagnostic categories).

Sources (each optional):

- ``nomensland/ghm_ghm_regroupement.json.gz`` — one row per GHM and classification year
  (``anseqta``): ``ghm`` (6 characters, ``05M091``) and ``libelle_ghm``.
- ``schema-snds/nomenclatures/ORAVAL/IR_CMD_V.csv`` — the CMD titles (``GHS_CMD`` 5 →
  ``05``, ``CMD_LIB``); its technical rows ``0`` (not applicable) and ``99`` (unknown) are
  not CMDs and are left out, ``90`` (errors) is kept. A CMD met in a GHM but absent from
  this table is labelled ``CMD <code>``.

``IR_GHS_V`` is not used: it describes GHS (tariff groups), not GHM, and links a GHS to
its CMD only. The older classifications ``MS_GM7_V``/``MS_GM9_V`` (GHM v7/v9, before
2009) are not loaded either.

GHM vocabulary, two levels: the GHM root (*racine*, the first 5 characters, ``05M09``,
level 1, no parent) and the GHM itself (``05M091`` … ``05M094``, ``05M09T``, level 2,
parent = its root). No source titles roots: a root takes the part its GHMs' labels share
(comma-separated segments, preferring the GHMs of severity levels 1–4; ``05M09`` →
"Insuffisances cardiaques et états de choc circulatoire"), else ``Racine <code>``.

A GHM keeps the label of its latest year. ``valid_from`` = 1 January of its first year
and ``valid_to`` = 31 December of its last year, each only when that year is not the
file's first (resp. last) year — a GHM present from the start or still present has no
known start (resp. end). Years are classification years: the day is approximate.

CMD: a vocabulary of its own (``05``, level 1). Every GHM and every root is linked to its
CMD (its first 2 characters) by a ``GHM_IN_CMD`` relation marked ``inferred`` (the ATIH
coding rule, not a source row): ``get_descendants("CMD", "05")`` follows that relation to
the roots and GHMs of CMD 05, and ``ConceptRow.parent`` then gives root → GHMs within the
GHM vocabulary. The CMD is not a ``parent`` because a parent must be in the same
vocabulary.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from pathlib import Path

from sndskit.errors import SndskitError
from sndskit.terminology.loaders.ccam import clean_text, read_checked_csv, read_checked_json
from sndskit.terminology.loaders.common import NOMENCLATURES
from sndskit.terminology.model import REL_GHM_IN_CMD, ConceptRow, RelationRow, TerminologyBatch

VOCAB = "GHM"
CMD_VOCAB = "CMD"
GHM_REL = "nomensland/ghm_ghm_regroupement.json.gz"
CMD_REL = str(NOMENCLATURES / "ORAVAL" / "IR_CMD_V.csv")
GHM_CODE = re.compile(r"^[0-9]{2}[A-Z][0-9]{2}[0-9A-Z]$")
NOT_A_CMD = {0, 99}  # IR_CMD_V technical rows: "Sans objet", "Valeur inconnue"
RULE = "first 2 characters of the GHM (ATIH rule)"


def _root_label(labels: list[str]) -> str:
    """The comma-separated segments every label starts with.

    >>> _root_label(["Hernies, niveau 1", "Hernies, niveau 2"])
    'Hernies'
    >>> _root_label(["Mort-nés"])
    'Mort-nés'
    >>> _root_label(["Hernies, niveau 1"])
    'Hernies'
    """
    split = [label.split(", ") for label in labels]
    shared: list[str] = []
    for segments in zip(*split, strict=False):
        if any(segment != segments[0] for segment in segments):
            break
        shared.append(segments[0])
    if len(shared) > 1 and re.fullmatch(r"niveau [1-4]", shared[-1]):
        shared.pop()  # a root with a single graded GHM
    return ", ".join(shared)


def _read_ghm(path: Path) -> dict[str, dict[int, str]]:
    """``GHM → {year: label}``."""
    years: dict[str, dict[int, str]] = defaultdict(dict)
    for number, row in read_checked_json(path, ("ghm", "libelle_ghm", "anseqta")):
        code = str(row["ghm"]).strip().upper()
        if not GHM_CODE.match(code):
            raise SndskitError(
                f"GHM code {code!r} is not 2 digits, a letter, 2 digits and a character",
                file=path,
                line=number,
                field="ghm",
            )
        year_text = str(row["anseqta"]).strip()
        if not (year_text.isdigit() and len(year_text) == 4):
            raise SndskitError(
                f"classification year {year_text!r} is not a 4-digit year",
                file=path,
                line=number,
                field="anseqta",
            )
        years[code][int(year_text)] = clean_text(row["libelle_ghm"])
    return years


def _read_cmd(path: Path) -> dict[str, str]:
    labels: dict[str, str] = {}
    for line, row in read_checked_csv(path, ("GHS_CMD", "CMD_LIB")):
        raw = row["GHS_CMD"].strip()
        if not raw.isdigit():
            raise SndskitError(
                f"CMD {raw!r} is not a number", file=path, line=line, field="GHS_CMD"
            )
        if int(raw) not in NOT_A_CMD:
            labels[f"{int(raw):02d}"] = clean_text(row["CMD_LIB"])
    return labels


def load_ghm(root: Path) -> TerminologyBatch:
    """GHM roots and GHMs (vocabulary GHM), CMDs (vocabulary CMD) and GHM_IN_CMD links."""
    ghm_path = root / GHM_REL
    cmd_path = root / CMD_REL
    years = _read_ghm(ghm_path) if ghm_path.exists() else {}
    cmd_labels = _read_cmd(cmd_path) if cmd_path.exists() else {}
    if not years and not cmd_labels:
        return TerminologyBatch([], [], [], {})

    concepts: list[ConceptRow] = []
    relations: list[RelationRow] = []
    versions: dict[str, str] = {}
    if years:
        first_year = min(min(by_year) for by_year in years.values())
        last_year = max(max(by_year) for by_year in years.values())
        roots: dict[str, list[str]] = defaultdict(list)
        for code in years:
            roots[code[:5]].append(code)
        for root_code, members in sorted(roots.items()):
            latest = [years[code][max(years[code])] for code in sorted(members)]
            graded = [years[code][max(years[code])] for code in members if code[5] in "1234"]
            label = _root_label(graded) or _root_label(latest)
            start = min(min(years[code]) for code in members)
            end = max(max(years[code]) for code in members)
            concepts.append(
                ConceptRow(
                    VOCAB,
                    root_code,
                    label or f"Racine {root_code}",
                    None,
                    1,
                    date(start, 1, 1) if start > first_year else None,
                    date(end, 12, 31) if end < last_year else None,
                    GHM_REL,
                )
            )
            for code in sorted(members):
                by_year = years[code]
                concepts.append(
                    ConceptRow(
                        VOCAB,
                        code,
                        by_year[max(by_year)],
                        root_code,
                        2,
                        date(min(by_year), 1, 1) if min(by_year) > first_year else None,
                        date(max(by_year), 12, 31) if max(by_year) < last_year else None,
                        GHM_REL,
                    )
                )
        for row in concepts:
            relations.append(
                RelationRow(VOCAB, row.code, REL_GHM_IN_CMD, CMD_VOCAB, row.code[:2], True, RULE)
            )
        versions[VOCAB] = (
            f"nomensland ghm_ghm_regroupement (classification years {first_year}–{last_year})"
        )

    cmd_codes = set(cmd_labels) | {row.code[:2] for row in concepts}
    for code in sorted(cmd_codes):
        label = cmd_labels.get(code)
        concepts.append(
            ConceptRow(
                CMD_VOCAB,
                code,
                label or f"CMD {code}",
                None,
                1,
                source=CMD_REL if label else GHM_REL,
            )
        )
    versions[CMD_VOCAB] = (
        "IR_CMD_V (schema-snds)" if cmd_labels else "CMD codes from the GHM (no title table)"
    )
    return TerminologyBatch(concepts, [], relations, versions)
