"""SNDS facts, each stated once with its source (SNDS primer of sndskit, Documentation-SNDS,
schema-snds of the Health Data Hub, SCALPEL3, sndsTools).

>>> pmsi_table("T_MCOaaB", 2019)
'T_MCO19B'
>>> len(FLUX_KEYS)
9
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

# DCIR details join ER_PRS_F on these 9 keys (primer §3; Documentation-SNDS « DCIR »).
FLUX_KEYS = (
    "FLX_DIS_DTD",
    "FLX_TRT_DTD",
    "FLX_EMT_TYP",
    "FLX_EMT_NUM",
    "FLX_EMT_ORD",
    "ORG_CLE_NUM",
    "DCT_ORD_NUM",
    "PRS_ORD_NUM",
    "REM_TYP_AFF",
)
STAY_KEYS = ("ETA_NUM", "RSA_NUM")  # PMSI MCO stay key, every T_MCOaa* table (primer §4)
MISSING_DATE = "1600-01-01"  # missing dates, and the death date of the living (primer §2)
VALID_CDI_NIR = ("00", "03", "04")  # BEN_CDI_NIR: normal or provisional; others fictitious
BENEFICIARIES = "IR_BEN_R"
ARCHIVED_BENEFICIARIES = "IR_BEN_R_ARC"  # no care since 2013, read with IR_BEN_R (primer §1)
LAST_ARCHIVE_YEAR = 2012  # DCIR flux years before 2013 live in ER_xxx_F_AAAA tables (primer §1)
PLACEHOLDER_NIR = ("xxxxxxxxxxxxxxxxx", "XXXXXXXXXXXXXXXXD", "XXXXXXXXXXXXXXXXS")  # primer §2
# PMSI patient return codes, '0' = valid (primer §2; COH_NAI_RET/COH_SEX_RET from 2013 are
# not checked yet: issue #11).
RETURN_CODES = ("NIR_RET", "NAI_RET", "SEX_RET", "SEJ_RET", "FHO_RET", "PMS_RET", "DAT_RET")
PMSI_STAYS = "T_MCOaaB"
PMSI_PATIENTS = "T_MCOaaC"


@dataclass(frozen=True)
class CodeColumn:
    """Where a vocabulary's codes are recorded, and the type the official schema gives the
    column (schema-snds): integer-typed code columns lose leading zeros."""

    vocabulary: str
    table: str  # a template (``T_MCOaaB``) for per-year PMSI tables
    column: str
    schema_type: str


CODE_COLUMNS = (
    CodeColumn("CIP13", "ER_PHA_F", "PHA_PRS_C13", "integer"),
    CodeColumn("CIP7", "ER_PHA_F", "PHA_PRS_IDE", "integer"),
    CodeColumn("UCD", "ER_UCD_F", "UCD_UCD_COD", "string"),
    CodeColumn("CCAM", "ER_CAM_F", "CAM_PRS_IDE", "string"),
    CodeColumn("NABM", "ER_BIO_F", "BIO_PRS_IDE", "integer"),
    CodeColumn("LPP", "ER_TIP_F", "TIP_PRS_IDE", "integer"),
    CodeColumn("CIM10", "IR_IMB_R", "MED_MTF_COD", "string"),
    CodeColumn("CCAM", "T_MCOaaA", "CDC_ACT", "string"),
    CodeColumn("CIM10", "T_MCOaaB", "DGN_PAL", "string"),
    CodeColumn("CIM10", "T_MCOaaB", "DGN_REL", "string"),
    CodeColumn("CIM10", "T_MCOaaD", "ASS_DGN", "string"),
    CodeColumn("CIM10", "T_MCOaaUM", "DGN_PAL", "string"),
    CodeColumn("CIM10", "T_MCOaaUM", "DGN_REL", "string"),
)


def code_column(table: str, column: str) -> CodeColumn:
    """The declared code column ``table.column`` (a KeyError names a new, undeclared one)."""
    for found in CODE_COLUMNS:
        if (found.table, found.column) == (table, column):
            return found
    raise KeyError(f"{table}.{column} is not a declared SNDS code column")


def pmsi_table(template: str, year: int) -> str:
    """The per-year PMSI table of ``year``: ``aa`` = 2-digit discharge year (primer §1;
    ``T_MCOaaB``, 2019 → ``T_MCO19B``). Written here, not through the catalogue, so that
    compiling a cohort does not load the catalogue store."""
    if "aa" not in template:
        raise ValueError(f"{template} is not a per-year PMSI table template")
    return template.replace("aa", f"{year % 100:02d}", 1)


def dcir_archive_table(table: str, year: int) -> str:
    """DCIR archive table of a flux year before 2013 (``ER_PRS_F``, 2012 → ``ER_PRS_F_2012``)."""
    return f"{table}_{year}"


FINESS_LISTS = {"finess_46": "in_list_46", "finess_166": "in_list_166"}


@cache
def finess_duplicates(name: str) -> tuple[str, ...]:
    """The geographic FINESS of AP-HP, AP-HM and HCL whose MCO stays were sent twice (HDH
    documentation « Activité en double dans les fichiers PMSI »: 46 or 166 codes)."""
    if name == "none":
        return ()
    column = FINESS_LISTS[name]
    path = resources.files("sndskit") / "resources" / "snds" / "finess_duplicates.csv"
    with path.open(encoding="utf-8") as handle:
        return tuple(sorted(r["eta_num"] for r in csv.DictReader(handle) if r[column] == "1"))
