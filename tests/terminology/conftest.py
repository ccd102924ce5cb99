"""Fixtures shared by the terminology tests."""

from __future__ import annotations

import pytest

from sndskit.terminology.loaders.drugs import load_drugs
from sndskit.terminology.model import TerminologyBatch
from tests.terminology.drug_support import BDPM_DIR, SHARED_DATA


@pytest.fixture(scope="session")
def real() -> TerminologyBatch:
    """Drug vocabularies loaded once from the shared reference data."""
    if not BDPM_DIR.is_dir():
        pytest.skip(f"no BDPM files in {BDPM_DIR}")
    return load_drugs(SHARED_DATA)
