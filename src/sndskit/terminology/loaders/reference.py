"""Small SNDS reference lists as flat vocabularies: ALD, specialties, natures of service."""

from __future__ import annotations

from pathlib import Path

from sndskit.terminology.loaders.common import nomenclature_csv, read_reference_csv
from sndskit.terminology.model import ConceptRow, TerminologyBatch

# vocabulary → (folder, table, code column, label column)
FLAT_LISTS = {
    "ALD": ("ORAVAL", "IR_ALD_V", "ALD_030_COD", "ALD_030_LIB"),
    "SPE": ("ORAVAL", "IR_SPE_V", "PFS_SPE_COD", "PFS_SPE_LIB"),
    "NAT": ("ORAVAL", "IR_NAT_V", "PRS_NAT", "PRS_NAT_LIB"),
}


def load_reference_lists(root: Path) -> TerminologyBatch:
    """ALD (``IR_ALD_V``), specialties (``IR_SPE_V``) and natures of service (``IR_NAT_V``).

    Technical rows (unknown / not applicable) are left out.
    """
    concepts: list[ConceptRow] = []
    versions: dict[str, str] = {}
    for vocabulary, (folder, table, code_col, label_col) in FLAT_LISTS.items():
        path = nomenclature_csv(root, folder, table)
        if not path.exists():
            continue
        for _, row in read_reference_csv(path, (code_col, label_col)):
            label = " ".join(row[label_col].split())
            concepts.append(ConceptRow(vocabulary, row[code_col].strip(), label, source=table))
        versions[vocabulary] = f"{table} (schema-snds)"
    return TerminologyBatch(concepts, [], [], versions)
