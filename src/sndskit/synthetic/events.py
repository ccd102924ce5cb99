"""Event buffers filled by the disease modules and the background care, then tabulated.

Each buffer is a struct of numpy arrays appended in blocks (never row by row).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

# kinds of town care lines (DCIR)
GP, SPECIALIST, VISIT, PHARMACY, BIOLOGY, IMAGING, TECH_ACT, NURSE, UCD, STAY_FEE, SURGERY_FEE = (
    range(1, 12)
)
CONSULTATIONS = (GP, SPECIALIST, VISIT)
UCD_PRICE = 450.0  # invoiced price of a hospital drug unit (DCIR ER_UCD_F and PMSI)

# trap flags of DCIR lines (bit mask)
F_INFO71 = 1 << 0  # DPN_QLF = 71 information line
F_TAA = 1 << 1  # ETE_IND_TAA = 1
F_REG_DUPLICATE = 1 << 2  # erroneous duplicate, later cancelled
F_REG_CANCEL = 1 << 3  # the cancelling line (negative quantity)
F_SPURIOUS = 1 << 4  # spurious dispensing, later cancelled
F_SPURIOUS_CANCEL = 1 << 5
F_ARCHIVE_DUPLICATE = 1 << 6  # erroneous duplicate in a 2012 flux (archive table)
F_ARCHIVE_CANCEL = 1 << 7  # its cancellation in a 2013 flux

# ER_PRS_F line types: the base act, and complement lines in the same décompte
PRS_BASE, PRS_FLAT_FEE, PRS_MAJORATION, PRS_FRANCHISE = range(4)

# kinds of hospital stays
STAY_BACKGROUND, STAY_INDEX, STAY_FOLLOW_UP, STAY_EVENT, STAY_SESSION = range(5)


class Buffer:
    """Columns of fixed dtypes, appended block by block."""

    dtypes: ClassVar[dict[str, type]] = {}

    def __init__(self) -> None:
        self._blocks: dict[str, list[np.ndarray]] = {k: [] for k in self.dtypes}

    def add(self, **columns: np.ndarray | int | float) -> None:
        n = next(len(v) for v in columns.values() if isinstance(v, np.ndarray))
        if n == 0:
            return
        for name, dtype in self.dtypes.items():
            value = columns.get(name, _DEFAULTS.get(name, 0))
            arr = np.asarray(value, dtype=dtype)
            self._blocks[name].append(np.broadcast_to(arr, (n,)) if arr.ndim == 0 else arr)
        unknown = set(columns) - set(self.dtypes)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")

    def build(self) -> dict[str, np.ndarray]:
        return {
            name: np.concatenate(blocks).astype(self.dtypes[name], copy=False)
            if blocks
            else np.zeros(0, dtype=self.dtypes[name])
            for name, blocks in self._blocks.items()
        }


_DEFAULTS = {
    "code": -1,
    "eta": -1,
    "episode": -1,
    "stay": -1,
    "dr": -1,
    "group": 0,
    "ucd": -1,
    "flux": -1,
    "act": -1,
}


class CareLines(Buffer):
    """Town care (DCIR) before flux keys: one row per service or drug line."""

    dtypes: ClassVar[dict[str, type]] = {
        "person": np.int32,
        "date": np.int32,
        "kind": np.int8,
        "code": np.int32,  # box (pharmacy), NABM, CCAM or UCD index
        "qty": np.int16,
        "spe": np.int16,  # executing professional's specialty (IR_SPE_V)
        "module": np.int8,  # 0 background, else module index
        "eta": np.int32,  # hospital (executing establishment), -1 in town
        "episode": np.int32,  # drug exposure episode (truth), -1
        "stay": np.int32,  # hospital stay the line echoes, -1
        "flags": np.int16,
        "group": np.int64,  # lines of a group > 0 form their own décompte
        "lag_extra": np.int8,  # months added to the flux lag
        "flux": np.int32,  # forced flux month (months since 1970-01), -1: drawn
        "act": np.int32,  # PMSI act row the line bills (private clinics), -1
    }


class Stays(Buffer):
    """Hospital stays (PMSI MCO) before keys."""

    dtypes: ClassVar[dict[str, type]] = {
        "person": np.int32,
        "admission": np.int32,
        "los": np.int16,
        "dp": np.int32,
        "dr": np.int32,
        "ghm": np.int32,
        "module": np.int8,
        "kind": np.int8,
        "death": np.bool_,
        "emergency": np.bool_,
        "private": np.bool_,
        "ucd": np.int32,  # hospital drug given during the session (UCD index), -1
        "ucd_qty": np.int16,
    }


class StayActs(Buffer):
    dtypes: ClassVar[dict[str, type]] = {"stay": np.int32, "code": np.int32, "offset": np.int16}


class Episodes(Buffer):
    """Drug exposure episodes (before merging overlaps of the same substance)."""

    dtypes: ClassVar[dict[str, type]] = {
        "person": np.int32,
        "drug": np.int32,  # BoxTable drug index
        "start": np.int32,
        "end": np.int32,  # last day covered (NO_DATE for chronic)
        "module": np.int8,  # 0 background chronic
        "large": np.bool_,
        "interval_factor": np.float32,  # adherence rhythm of the person
    }


class Conditions(Buffer):
    dtypes: ClassVar[dict[str, type]] = {
        "person": np.int32,
        "module": np.int8,
        "onset": np.int32,
        "end": np.int32,
        "code": np.int32,  # diagnosis (ICD index)
        "prevalent": np.bool_,
    }


class AldRows(Buffer):
    dtypes: ClassVar[dict[str, type]] = {
        "person": np.int32,
        "number": np.int16,
        "start": np.int32,
        "end": np.int32,  # MISSING_DATE when open-ended
        "code": np.int32,  # IR_CIM_V index
        "etm": np.int16,  # IMB_ETM_NAT
        "module": np.int8,
    }


@dataclass
class ChunkEvents:
    lines: CareLines = field(default_factory=CareLines)
    stays: Stays = field(default_factory=Stays)
    stay_acts: StayActs = field(default_factory=StayActs)
    episodes: Episodes = field(default_factory=Episodes)
    conditions: Conditions = field(default_factory=Conditions)
    ald: AldRows = field(default_factory=AldRows)
    n_stays: int = 0

    def add_stays(self, **columns) -> np.ndarray:
        """Append stays; returns their ids (positions), for acts and diagnoses."""
        n = next(len(v) for v in columns.values() if isinstance(v, np.ndarray))
        ids = np.arange(self.n_stays, self.n_stays + n, dtype=np.int32)
        self.stays.add(**columns)
        self.n_stays += n
        return ids
