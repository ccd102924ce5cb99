"""One concept model for every vocabulary: concepts, synonyms and typed relations.

Loaders (``sndskit.terminology.loaders``) read one source each and return a
:class:`TerminologyBatch`; the importer writes all batches into the store's ``concepts``,
``synonyms`` and ``relations`` tables. Rows are light named tuples because a full import
holds a few hundred thousand of them.
"""

from __future__ import annotations

import re
from datetime import date
from typing import NamedTuple

# Vocabulary ids, as stored and as accepted by ``--vocab`` (case-insensitive).
VOCABULARIES: dict[str, str] = {
    "CIM10": "CIM-10 (ICD-10 FR, ATIH) diagnoses, with WHO chapters and blocks",
    "CCAM": "Classification commune des actes médicaux (procedures), with its chapter tree",
    "ATC": "Anatomical Therapeutic Chemical classification (levels 1/3/4/5/7 chars)",
    "CIS": "Drug products (Code Identifiant de Spécialité, BDPM)",
    "CIP13": "Drug boxes, 13-digit code (town pharmacy, ER_PHA_F.PHA_PRS_C13)",
    "CIP7": "Drug boxes, former 7-digit code (older years, ER_PHA_F.PHA_PRS_IDE)",
    "UCD": "Hospital dispensing units, 13-character form (ER_UCD_F.UCD_UCD_COD)",
    "SUBSTANCE": "Active substances (BDPM substance codes)",
    "GENERIC_GROUP": "Generic groups (BDPM)",
    "NABM": "Biology acts (Nomenclature des actes de biologie médicale), with chapters",
    "LPP": "Medical devices (Liste des produits et prestations), with its tree",
    "GHM": "Homogeneous patient groups (PMSI), grouped by CMD",
    "CMD": "Major diagnostic categories (first 2 characters of a GHM)",
    "ALD": "Long-term conditions (ALD 30 list)",
    "SPE": "Health professional specialties (IR_SPE_V)",
    "NAT": "Natures of service (IR_NAT_V, PRS_NAT_REF)",
}

# Relation ids: "<FROM>_<VERB>_<TO>", read left to right.
REL_CIP13_OF_CIS = "CIP13_BOX_OF_CIS"
REL_CIP7_OF_CIS = "CIP7_BOX_OF_CIS"
REL_CIP7_SAME_BOX_CIP13 = "CIP7_SAME_BOX_AS_CIP13"
REL_CIS_HAS_SUBSTANCE = "CIS_HAS_SUBSTANCE"
REL_CIS_IN_GENERIC_GROUP = "CIS_IN_GENERIC_GROUP"
REL_UCD_HAS_ATC = "UCD_HAS_ATC"
REL_UCD_HAS_SUBSTANCE = "UCD_HAS_SUBSTANCE"
REL_CIP13_HAS_ATC = "CIP13_HAS_ATC"
REL_CIS_HAS_ATC = "CIS_HAS_ATC"
REL_SUBSTANCE_HAS_ATC = "SUBSTANCE_HAS_ATC"
REL_CIP7_HAS_ATC = "CIP7_HAS_ATC"  # ATC class (2nd level) of a box, ORAVAL/IR_CIP_V
REL_CIM10_IN_ALD = "CIM10_IN_ALD"
REL_GHM_IN_CMD = "GHM_IN_CMD"

# Synonym kinds: why a text names a concept.
SYNONYM_KINDS = (
    "short_label",  # official short label (CCAM libellé court, LPP nom court …)
    "long_label",  # official long label when ``label`` holds the short one
    "alt_label",  # another official label (an extension's label, a previous wording)
    "alt_code",  # another official code of the same concept (UCD7 of a UCD13 …)
    "english",  # WHO ICD-10 English label, ATC English name
    "abbreviation",  # curated clinical abbreviation (AVC, IDM …)
    "lay_term",  # curated lay term ("crise cardiaque")
)


class ConceptRow(NamedTuple):
    vocabulary: str
    code: str
    label: str
    parent: str | None = None  # code of the parent in the same vocabulary
    level: int | None = None  # depth in the vocabulary's hierarchy, 1 = top
    valid_from: date | None = None
    valid_to: date | None = None
    source: str = ""  # file the concept comes from (relative to the reference folder)


class SynonymRow(NamedTuple):
    vocabulary: str
    code: str
    text: str
    kind: str  # one of SYNONYM_KINDS
    source: str = ""


class RelationRow(NamedTuple):
    vocabulary_1: str
    code_1: str
    relation: str  # one of the REL_* ids
    vocabulary_2: str
    code_2: str
    inferred: bool = False  # True when sndskit derived the link (say how in ``source``)
    source: str = ""


class TerminologyBatch(NamedTuple):
    """What one loader returns. ``versions`` maps each vocabulary it fills to a version
    string (file date, snapshot name …) shown by ``sndskit codes vocabularies``."""

    concepts: list[ConceptRow]
    synonyms: list[SynonymRow]
    relations: list[RelationRow]
    versions: dict[str, str]


# The form of a code as SNDS tables record it; other concepts of a vocabulary are structure
# (WHO blocks and chapters, CCAM/NABM/LPP tree nodes, GHM roots) and never appear in data.
CODE_FORMS: dict[str, str] = {
    "CIM10": r"^[A-Z][0-9]{2}[0-9A-Z+]*$",
    "CCAM": r"^[A-Z]{4}[0-9]{3}$",
    "NABM": r"^[0-9]{4}$",
    "LPP": r"^[0-9]{7}$",
    "GHM": r"^[0-9]{2}[A-Z][0-9]{2}[0-9A-Z]$",
    "CIP13": r"^[0-9]{13}$",
    "CIP7": r"^[0-9]{7}$",
    "UCD": r"^[0-9]{13}$",
}


def is_codable(vocabulary: str, code: str) -> bool:
    """Whether ``code`` has the form SNDS tables record (a block like ``E10-E14`` has not).

    >>> is_codable("CIM10", "G838+0"), is_codable("CIM10", "E10-E14"), is_codable("ATC", "A10")
    (True, False, True)
    """
    form = CODE_FORMS.get(vocabulary)
    return form is None or re.match(form, code) is not None
