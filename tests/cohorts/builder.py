"""A tiny SNDS-shaped dataset written row by row, so each test knows its truth by design."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

DRUG = "3400000000017"  # fictitious CIP13 codes of the test code lists
OTHER_DRUG = "3400000000024"
T1D = "E109"
FLUX_DEFAULTS = {
    "FLX_TRT_DTD": None,
    "FLX_EMT_TYP": 1,
    "FLX_EMT_NUM": 1,
    "FLX_EMT_ORD": 0,
    "ORG_CLE_NUM": "01C731220",
    "REM_TYP_AFF": 0,
    "PRS_ORD_NUM": 1,
}


def nir(person: int, pseudonym: int = 0) -> str:
    return f"N{person:010d}P{pseudonym:05d}"


class SndsBuilder:
    def __init__(self) -> None:
        self.tables: dict[str, list[dict]] = {
            "IR_BEN_R": [],
            "ER_PRS_F": [],
            "ER_PHA_F": [],
            "ER_ETE_F": [],
        }
        self._dct = 0
        self._rsa = 0

    def person(
        self,
        person: int,
        *,
        birth_year: int = 1960,
        sex: int = 1,
        cdi: str = "00",
        pseudonyms: int = 1,
        death: date | None = None,
        twin_of: int | None = None,
        archived: bool = False,
    ) -> None:
        """``twin_of``: a same-sex twin sharing that person's pseudonyms, with rank 2;
        ``archived``: the row lives in IR_BEN_R_ARC (no care since 2013)."""
        table = "IR_BEN_R_ARC" if archived else "IR_BEN_R"
        for k in range(pseudonyms):
            self.tables.setdefault(table, []).append(
                {
                    "BEN_NIR_PSA": nir(twin_of or person, k),
                    "BEN_RNG_GEM": 2 if twin_of else 1,
                    "BEN_IDT_ANO": f"P{person:06d}",
                    "BEN_SEX_COD": sex,
                    "BEN_NAI_ANN": str(birth_year),
                    "BEN_CDI_NIR": cdi,
                    "BEN_DCD_DTE": death or date(1600, 1, 1),
                }
            )

    def dispensing(
        self,
        person: int,
        day: date,
        *,
        code: str = DRUG,
        quantity: int = 1,
        pseudonym: int = 0,
        flux: date | None = None,
        dpn_qlf: int | None = None,
        bse_prs_nat: int = 1111,
        ete_ind_taa: int | None = None,
        cip7_only: bool = False,
        archive: bool = False,
        twin_of: int | None = None,
    ) -> None:
        self._dct += 1
        flux = flux or date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        keys = {**FLUX_DEFAULTS, "FLX_DIS_DTD": flux, "FLX_TRT_DTD": flux, "DCT_ORD_NUM": self._dct}
        suffix = f"_{flux.year}" if archive else ""  # DCIR archives: ER_PRS_F_2012 …
        for name in ("ER_PRS_F", "ER_PHA_F"):
            self.tables.setdefault(name + suffix, [])
        self.tables["ER_PRS_F" + suffix].append(
            {
                **keys,
                "BEN_NIR_PSA": nir(twin_of or person, pseudonym),
                "BEN_RNG_GEM": 2 if twin_of else 1,
                "EXE_SOI_DTD": day,
                "DPN_QLF": dpn_qlf,
                "PRS_DPN_QLP": None,
                "BSE_PRS_NAT": bse_prs_nat,
                "PRS_ACT_QTE": quantity,
            }
        )
        self.tables["ER_PHA_F" + suffix].append(
            {
                **keys,
                "PHA_PRS_C13": None if cip7_only else code,
                "PHA_PRS_IDE": code[5:12],
                "PHA_ACT_QSN": quantity,
            }
        )
        if ete_ind_taa is not None:
            self.tables["ER_ETE_F"].append(
                {**keys, "ETE_IND_TAA": ete_ind_taa, "ETB_EXE_FIN": "750000001"}
            )

    def stay(
        self,
        person: int,
        start: date,
        *,
        dp: str | None = None,
        das: list[str] = (),
        um_dp: str | None = None,
        eta_num: str = "750000001",
        ghm: str = "10M021",
        sej_typ: str | None = None,
        nir_ret: str = "0",
        sor_mod: str = "8",
    ) -> None:
        year = start.year % 100
        self._rsa += 1
        keys = {"ETA_NUM": eta_num, "RSA_NUM": f"{self._rsa:08d}"}
        self.tables.setdefault(f"T_MCO{year:02d}B", []).append(
            {
                **keys,
                "DGN_PAL": dp,
                "DGN_REL": None,
                "GRG_GHM": ghm,
                "SEJ_TYP": sej_typ,
                "SOR_MOD": sor_mod,
            }
        )
        self.tables.setdefault(f"T_MCO{year:02d}C", []).append(
            {
                **keys,
                "NIR_ANO_17": nir(person),
                "EXE_SOI_DTD": start,
                "EXE_SOI_DTF": start,
                **{
                    c: "0"
                    for c in ("NAI_RET", "SEX_RET", "SEJ_RET", "FHO_RET", "PMS_RET", "DAT_RET")
                },
                "NIR_RET": nir_ret,
            }
        )
        self.tables.setdefault(f"T_MCO{year:02d}D", [])
        for code in das:
            self.tables[f"T_MCO{year:02d}D"].append({**keys, "ASS_DGN": code})
        self.tables.setdefault(f"T_MCO{year:02d}UM", [])
        if um_dp:
            self.tables[f"T_MCO{year:02d}UM"].append({**keys, "DGN_PAL": um_dp, "DGN_REL": None})

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        schemas = {
            "ASS_DGN": pa.string(),
            "DGN_PAL": pa.string(),
            "DGN_REL": pa.string(),
            "SEJ_TYP": pa.string(),
            "PHA_PRS_C13": pa.string(),
            "DPN_QLF": pa.int32(),
            "PRS_DPN_QLP": pa.int32(),
            "ETE_IND_TAA": pa.int32(),
        }
        empty = {
            "D": ["ETA_NUM", "RSA_NUM", "ASS_DGN"],
            "UM": ["ETA_NUM", "RSA_NUM", "DGN_PAL", "DGN_REL"],
        }
        for name, rows in self.tables.items():
            if not rows:
                suffix = name[7:] if name.startswith("T_MCO") else ""
                if suffix in empty:  # PMSI detail tables exist even when a year has no row
                    schema = pa.schema([pa.field(c, pa.string()) for c in empty[suffix]])
                    pq.write_table(schema.empty_table(), folder / f"{name}.parquet")
                continue
            columns = list(rows[0])
            fields = [
                pa.field(c, schemas.get(c) or pa.array([r[c] for r in rows]).type) for c in columns
            ]
            table = pa.Table.from_pylist(rows, schema=pa.schema(fields))
            pq.write_table(table, folder / f"{name}.parquet")
        return folder
