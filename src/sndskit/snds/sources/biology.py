"""``biology``: laboratory tests (DCIR, ER_BIO_F)."""

from __future__ import annotations

from functools import partial

from sndskit.snds.sources._dcir import DcirDetail, dcir_events
from sndskit.snds.sources.base import EventSource

DETAIL = DcirDetail("ER_BIO_F", "BIO_PRS_IDE", "NABM", cip7=None, quantity=None)

SOURCE = EventSource(
    name="biology",
    label_en="laboratory tests (DCIR, ER_BIO_F)",
    label_fr="actes de biologie (DCIR, ER_BIO_F)",
    where="`ER_BIO_F` ⋈ `ER_PRS_F`",
    date="`EXE_SOI_DTD`",
    vocabularies=("NABM",),
    build=partial(dcir_events, DETAIL),
    code_locations=DETAIL.code_locations(),
    drug=False,
)
