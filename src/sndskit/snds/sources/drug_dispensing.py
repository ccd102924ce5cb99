"""``drug_dispensing``: drugs dispensed by community pharmacies."""

from __future__ import annotations

from functools import partial

from sndskit.snds.sources._dcir import DcirDetail, dcir_events
from sndskit.snds.sources.base import EventSource

DETAIL = DcirDetail("ER_PHA_F", "PHA_PRS_C13", "CIP13", cip7="PHA_PRS_IDE", quantity="PHA_ACT_QSN")

SOURCE = EventSource(
    name="drug_dispensing",
    label_en="drugs dispensed by community pharmacies",
    label_fr="délivrances en pharmacie de ville (DCIR, ER_PHA_F)",
    where="`ER_PHA_F` ⋈ `ER_PRS_F` (9 flux keys)",
    date="`EXE_SOI_DTD`",
    vocabularies=("CIP13", "CIP7"),
    build=partial(dcir_events, DETAIL),
    code_locations=DETAIL.code_locations(),
    drug=True,
)
