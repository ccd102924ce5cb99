"""``medical_device``: medical devices and supplies (DCIR, ER_TIP_F)."""

from __future__ import annotations

from functools import partial

from sndskit.snds.sources._dcir import DcirDetail, dcir_events
from sndskit.snds.sources.base import EventSource

DETAIL = DcirDetail("ER_TIP_F", "TIP_PRS_IDE", "LPP", cip7=None, quantity="TIP_ACT_QSN")

SOURCE = EventSource(
    name="medical_device",
    label_en="medical devices and supplies (DCIR, ER_TIP_F)",
    label_fr="dispositifs médicaux et fournitures (DCIR, ER_TIP_F, LPP)",
    where="`ER_TIP_F` ⋈ `ER_PRS_F`",
    date="`EXE_SOI_DTD`",
    vocabularies=("LPP",),
    build=partial(dcir_events, DETAIL),
    code_locations=DETAIL.code_locations(),
    drug=False,
)
