"""Quality filters as typed data: presets validated, each filter where it applies."""

from __future__ import annotations

import copy

import pytest

from sndskit.errors import SndskitError
from sndskit.snds import filters
from sndskit.snds.sources import SOURCES


@pytest.fixture
def edited(monkeypatch):
    """Edit a copy of the filters document; caches are reset around the test."""
    document = copy.deepcopy(filters._document())
    caches = (filters.get_filters, filters.get_presets)
    for cached in caches:
        cached.cache_clear()
    monkeypatch.setattr(filters, "_document", lambda: document)
    yield document
    for cached in caches:
        cached.cache_clear()


def test_a_preset_naming_an_unknown_filter_is_an_error(edited):
    edited["presets"]["cnam"].append("pmsi_no_such_filter")
    with pytest.raises(SndskitError, match=r"unknown quality filter.*pmsi_no_such_filter") as e:
        filters.get_preset("cnam")
    assert "pmsi_error_ghm" in e.value.allowed


def test_a_filter_without_builder_or_for_an_unknown_source_is_an_error(edited):
    edited["filters"]["dcir_new"] = {
        "applies_to": [],
        "cited": [],
        "description": "x",
        "description_fr": "x",
    }
    with pytest.raises(SndskitError, match="dcir_new"):
        filters.get_filters()
    del edited["filters"]["dcir_new"]
    edited["filters"]["pmsi_error_ghm"]["applies_to"] = ["hospital_stays"]
    with pytest.raises(SndskitError, match="unknown sources") as e:
        filters.get_filters()
    assert "hospital_diagnosis" in e.value.allowed


def test_unknown_preset_lists_the_presets():
    with pytest.raises(SndskitError) as e:
        filters.get_preset("strict")
    assert set(e.value.allowed) == {"cnam", "scalpel", "minimal", "none"}


def test_every_filter_is_described_cited_and_applies_to_registered_sources():
    for quality_filter in filters.get_filters().values():
        assert quality_filter.description and quality_filter.description_fr
        assert quality_filter.cited
        assert set(quality_filter.applies_to) <= set(SOURCES)
        assert quality_filter.stage in filters.STAGES


def test_hospital_drugs_take_the_ucd_information_filter_instead_of_the_general_one():
    def ids(preset, source):
        return [f.id for f in filters.active_filters(preset, "dcir_line", source)]

    assert ids("cnam", "hospital_drug")[0] == "dcir_ucd_information_lines"
    assert "dcir_information_lines" not in ids("cnam", "hospital_drug")
    assert ids("cnam", "drug_dispensing")[0] == "dcir_information_lines"
    assert ids("scalpel", "hospital_drug") == ["dcir_information_lines", "dcir_no_nature"]
    assert ids("none", "drug_dispensing") == []
