"""``hospital_drug``: expensive hospital drugs (retrocession, add-on list)."""

from __future__ import annotations

from functools import partial

from sndskit.snds.sources._dcir import DcirDetail, dcir_events
from sndskit.snds.sources.base import EventSource

DETAIL = DcirDetail("ER_UCD_F", "UCD_UCD_COD", "UCD", cip7=None, quantity="UCD_DLV_NBR")

SOURCE = EventSource(
    name="hospital_drug",
    label_en="expensive hospital drugs (retrocession, add-on list)",
    label_fr="médicaments hospitaliers rétrocédés ou en sus (DCIR, ER_UCD_F)",
    where="`ER_UCD_F` ⋈ `ER_PRS_F`",
    date="`EXE_SOI_DTD`",
    vocabularies=("UCD",),
    build=partial(dcir_events, DETAIL),
    code_locations=DETAIL.code_locations(),
    drug=True,
)
