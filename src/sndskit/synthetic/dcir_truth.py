"""The DCIR part of the truth: trap rows and true dispensings, by their 9 flux keys."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sndskit.synthetic.arrays import take_strings
from sndskit.synthetic.context import GenerationContext
from sndskit.synthetic.events import (
    F_ARCHIVE_CANCEL,
    F_ARCHIVE_DUPLICATE,
    F_INFO71,
    F_REG_CANCEL,
    F_REG_DUPLICATE,
    F_SPURIOUS,
    F_SPURIOUS_CANCEL,
    F_TAA,
    PHARMACY,
    PRS_BASE,
    PRS_FLAT_FEE,
    PRS_FRANCHISE,
    PRS_MAJORATION,
    UCD,
)
from sndskit.synthetic.schema import DCIR_KEYS

LATE_MONTHS = 6  # the 99 %-within-6-months rule
# trap flags → (trap name, role)
LINE_TRAPS = {
    F_INFO71: ("information_line", "DPN_QLF = 71"),
    F_TAA: ("ete_ind_taa", "ETE_IND_TAA = 1"),
    F_REG_DUPLICATE: ("regularisation", "erroneous duplicate"),
    F_REG_CANCEL: ("regularisation", "cancellation (negative quantity)"),
    F_SPURIOUS: ("cancelled_dispensing", "spurious dispensing"),
    F_SPURIOUS_CANCEL: ("cancelled_dispensing", "cancellation (negative quantity)"),
    F_ARCHIVE_DUPLICATE: ("archive_cancellation", "erroneous duplicate (2012 flux)"),
    F_ARCHIVE_CANCEL: ("archive_cancellation", "cancellation in a 2013 flux (negative quantity)"),
}
COMPLEMENT_TRAPS = {
    PRS_FLAT_FEE: ("flat_fee", "participation forfaitaire CPL_AFF_COD = 16, BSE_PRS_NAT = 0"),
    PRS_MAJORATION: ("majoration", "CPL_MAJ_TOP = 2"),
    PRS_FRANCHISE: ("franchise", "franchise line, BSE_PRS_NAT = 0"),
}


def _repeat(value: str | None, n: int) -> pa.Array:
    return pa.array([value], type=pa.string()).take(pa.array(np.zeros(n, dtype=np.int32)))


def key_columns(keys, rows: np.ndarray) -> dict[str, object]:
    return {k: slice_rows(keys[k], rows) for k in DCIR_KEYS}


def truth_traps(
    ctx,
    row,
    typ,
    keys,
    flux_year,
    lag,
    missing,
    prescribed,
    lines,
    line_row,
    line_flux_year,
    detail_ord,
    cip7_only,
) -> dict[str, object]:
    """One record per trap row: trap, role, physical table, 9 flux keys, detail order."""
    parts = []

    def add(
        rows: np.ndarray,
        trap: str,
        role: str,
        template: str,
        years: np.ndarray,
        detail: np.ndarray | None = None,
        column: str | None = None,
    ) -> None:
        if len(rows) == 0:
            return
        part = key_columns(keys, rows)
        part["trap"] = _repeat(trap, len(rows))
        part["role"] = _repeat(role, len(rows))
        part["table_name"] = physical_dcir_name(ctx, template, years)
        part["detail_ord"] = (
            detail if detail is not None else np.full(len(rows), -1, dtype=np.int64)
        )
        part["column_name"] = _repeat(column, len(rows))
        part["person"] = row["person"][rows]
        parts.append(part)

    base = typ == PRS_BASE
    for flag, (trap, role) in LINE_TRAPS.items():
        rows = np.flatnonzero(base & ((row["flags"] & flag) > 0))
        add(rows, trap, role, "ER_PRS_F", flux_year[rows])
    for t, (trap, role) in COMPLEMENT_TRAPS.items():
        rows = np.flatnonzero(typ == t)
        add(rows, trap, role, "ER_PRS_F", flux_year[rows])
    rows = np.flatnonzero(lag > LATE_MONTHS)
    add(
        rows,
        "late_flux",
        "flux more than 6 months after the care month",
        "ER_PRS_F",
        flux_year[rows],
    )
    rows = np.flatnonzero(missing)
    add(rows, "missing_date", "1600-01-01", "ER_PRS_F", flux_year[rows], column="EXE_SOI_DTF")
    rows = np.flatnonzero(missing & prescribed)
    add(rows, "missing_date", "1600-01-01", "ER_PRS_F", flux_year[rows], column="PRE_PRE_DTD")
    sel = np.flatnonzero(cip7_only)
    add(
        line_row[sel],
        "cip7_only",
        "PHA_PRS_C13 null, CIP7 in PHA_PRS_IDE",
        "ER_PHA_F",
        line_flux_year[sel],
        detail=detail_ord[sel],
    )
    if not parts:
        return {}
    return {
        k: np.concatenate([p[k] for p in parts])
        if not isinstance(parts[0][k], pa.Array)
        else pa.concat_arrays([p[k] for p in parts])
        for k in parts[0]
    }


def truth_dispensings(ctx, lines, keys, line_row, line_flux_year, detail_ord) -> dict[str, object]:
    """True drug lines (town pharmacy and hospital drugs billed in DCIR), with their keys."""
    kind = lines["kind"]
    true = lines["flags"] == 0
    pha = np.flatnonzero(true & (kind == PHARMACY))
    ucd = np.flatnonzero(true & (kind == UCD))
    sel = np.concatenate([pha, ucd])
    part = key_columns(keys, line_row[sel])
    is_ucd = np.concatenate([np.zeros(len(pha), dtype=bool), np.ones(len(ucd), dtype=bool)])
    part["table_name"] = pc.if_else(
        pa.array(is_ucd),
        physical_dcir_name(ctx, "ER_UCD_F", line_flux_year[sel]),
        physical_dcir_name(ctx, "ER_PHA_F", line_flux_year[sel]),
    )
    for k in ("person", "identity", "date", "qty", "module", "episode", "code"):
        part[k] = lines[k][sel]
    part["is_ucd"] = is_ucd
    part["detail_ord"] = detail_ord[sel]
    return part


def truth_lines(
    ctx,
    lines,
    keys,
    line_row,
    line_flux_year,
    detail_ord,
    kinds: tuple[int, ...],
    template: str,
    *,
    coded: bool = True,
    flag: int = 0,
) -> dict[str, object]:
    """Lines of ``kinds`` (true ones, or those with the trap ``flag``; with a code if
    ``coded``) and the keys of their ``template`` row."""
    flagged = lines["flags"] == 0 if flag == 0 else (lines["flags"] & flag) > 0
    sel = np.flatnonzero(np.isin(lines["kind"], kinds) & flagged & ((lines["code"] >= 0) | ~coded))
    part = key_columns(keys, line_row[sel])
    part["table_name"] = physical_dcir_name(ctx, template, line_flux_year[sel])
    for k in (
        "person",
        "identity",
        "date",
        "qty",
        "module",
        "code",
        "act",
        "nature",
        "spe",
        "kind",
        "eta",
    ):
        part[k] = lines[k][sel]
    part["detail_ord"] = detail_ord[sel]
    return part


# -- helpers ---------------------------------------------------------------------------
def slice_rows(value, idx: np.ndarray):
    if isinstance(value, pa.Array):
        return value.take(pa.array(idx.astype(np.int64)))
    return value[idx]


def physical_dcir_name(ctx: GenerationContext, template: str, flux_year: np.ndarray) -> pa.Array:
    """Physical table of each row: the template, or its archive ``TEMPLATE_AAAA``."""
    cutoff = ctx.config.dcir_suffixed_before
    if cutoff is None or len(flux_year) == 0 or flux_year.min() >= cutoff:
        return pa.array([template], type=pa.string()).take(
            pa.array(np.zeros(len(flux_year), np.int32))
        )
    years = np.arange(int(flux_year.min()), int(flux_year.max()) + 1)
    names = [f"{template}_{y}" if y < cutoff else template for y in years]
    return take_strings(names, (flux_year - years[0]).astype(np.int32))
