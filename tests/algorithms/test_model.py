"""Broken algorithm folders give errors naming the file, the line and the field."""

from __future__ import annotations

import pytest

from sndskit.algorithms import load_algorithm
from sndskit.algorithms.model import _orcid_check
from sndskit.errors import SndskitError


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _error(folder) -> SndskitError:
    with pytest.raises(SndskitError) as info:
        load_algorithm(folder)
    return info.value


def test_a_bad_version_names_the_file_line_and_field(folder_copy):
    folder = folder_copy("acs_hospitalised")
    _edit(folder / "algorithm.yaml", "version: 1.0.0", "version: '1.0'")
    error = _error(folder)
    assert error.file.endswith("acs_hospitalised/algorithm.yaml")
    assert error.field == "version" and error.line == 2
    assert "semantic version" in error.message


def test_an_unknown_medical_domain_lists_the_allowed_ones(folder_copy):
    folder = folder_copy("acs_hospitalised")
    _edit(folder / "algorithm.yaml", "domains: [cardiologie]", "domains: [cardiology]")
    error = _error(folder)
    assert error.field == "domains.0"
    assert "cardiologie" in error.allowed and "neurologie" in error.allowed


def test_an_unknown_field_is_refused(folder_copy):
    folder = folder_copy("acs_hospitalised")
    _edit(folder / "algorithm.yaml", "licence: MPL-2.0", "licence: MPL-2.0\nlicense: MIT")
    error = _error(folder)
    assert error.field == "license" and error.message == "unknown field"


def test_a_validated_algorithm_must_cite_a_real_data_validation(folder_copy):
    folder = folder_copy("acs_hospitalised")
    _edit(folder / "algorithm.yaml", "status: draft", "status: validated")
    _edit(folder / "algorithm.yaml", "authors:", "reviewers:\n  - {name: A. Reviewer}\nauthors:")
    error = _error(folder)
    assert "validated algorithm cites a real-data validation" in error.message
    assert error.file.endswith("algorithm.yaml")


def test_related_definition_evidence_does_not_make_an_algorithm_validated(folder_copy):
    """The stroke fiche cites two published validations of related definitions only."""
    folder = folder_copy("stroke_hospitalised")
    _edit(folder / "algorithm.yaml", "status: draft", "status: validated")
    _edit(folder / "algorithm.yaml", "authors:", "reviewers:\n  - {name: A. Reviewer}\nauthors:")
    assert "validated algorithm" in _error(folder).message


def test_reviewed_needs_reviewers(folder_copy):
    folder = folder_copy("copd")
    _edit(folder / "algorithm.yaml", "status: draft", "status: reviewed")
    assert "needs at least one reviewer" in _error(folder).message


def test_orcid_checksum_is_verified(folder_copy):
    assert _orcid_check("0000-0002-1825-009") == "7"  # ORCID's documented example
    folder = folder_copy("copd")
    _edit(
        folder / "algorithm.yaml",
        "{name: sndskit maintainers}",
        "{name: A. Author, orcid: 0000-0002-1825-0098}",
    )
    error = _error(folder)
    assert error.field == "authors.0.orcid" and "not a valid ORCID" in error.message


def test_a_metric_outside_its_interval_is_refused(folder_copy):
    folder = folder_copy("stroke_hospitalised")
    _edit(folder / "algorithm.yaml", "value: 0.771, ci_low: 0.742", "value: 0.71, ci_low: 0.742")
    error = _error(folder)
    assert (
        error.field.startswith("validation.1.metrics.0") and "outside its interval" in error.message
    )


def test_synthetic_evidence_is_level_zero(folder_copy):
    folder = folder_copy("stroke_hospitalised")
    (folder / "synthetic_validation.yaml").write_text(
        "level: 2\nsynthetic: true\nmethod: {fr: a, en: a}\nreference_standard: {fr: b, en: b}\n"
        "population: {fr: c, en: c}\n",
        encoding="utf-8",
    )
    algorithm = load_algorithm(folder)
    with pytest.raises(SndskitError) as info:
        algorithm.validations()
    assert info.value.file.endswith("synthetic_validation.yaml")
    assert "synthetic data is level 0" in info.value.message


def test_the_id_must_be_the_folder_name(folder_copy):
    folder = folder_copy("copd")
    _edit(folder / "algorithm.yaml", "id: copd", "id: bpco")
    error = _error(folder)
    assert error.field == "id" and error.line == 1 and "folder name" in error.message


def test_a_missing_cohort_spec_names_the_metadata_field(folder_copy):
    folder = folder_copy("copd")
    (folder / "ald.yaml").unlink()
    error = _error(folder)
    assert error.field == "cohorts.1.spec" and "ald.yaml" in error.message


def test_a_broken_cohort_spec_names_its_file(folder_copy):
    folder = folder_copy("copd")
    _edit(folder / "ald.yaml", "index: first", "index: earliest")
    error = _error(folder)
    assert error.file.endswith("copd/ald.yaml") and error.field == "entry.index"
    assert error.allowed == ["first", "last", "all"]


def test_code_lists_must_be_frozen_files_of_the_folder(folder_copy):
    folder = folder_copy("copd")
    _edit(folder / "ald.yaml", "codelists/copd.json", "copd")
    algorithm = load_algorithm(folder)
    with pytest.raises(SndskitError) as info:
        algorithm.codelists  # noqa: B018
    assert info.value.file.endswith("ald.yaml") and "frozen list" in info.value.message
