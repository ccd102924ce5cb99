"""`lint` over the shipped catalogue (this test is the CI gate), and each check failing on
the fault it is for: version not bumped, frozen list stale, unknown code, stale fiche."""

from __future__ import annotations

import json

import pytest

from sndskit.algorithms import catalogue_root, lint_algorithm, list_algorithms, record_version
from sndskit.algorithms.docs import write_fiches
from sndskit.algorithms.folder import load_algorithm
from sndskit.config import store_path

pytestmark = pytest.mark.shared_data


def _errors(problems):
    return [p for p in problems if p.severity == "error"]


@pytest.mark.parametrize("folder", sorted(p.name for p in catalogue_root().iterdir() if p.is_dir()))
def test_every_catalogue_algorithm_passes_lint(real_home, folder):
    problems = lint_algorithm(catalogue_root() / folder, store_path(real_home))
    assert _errors(problems) == [], [p.render() for p in problems]


def test_the_catalogue_has_the_promised_algorithms():
    ids = {a.id for a in list_algorithms()}
    assert {"t2d_treated", "acs_hospitalised", "stroke_hospitalised", "heart_failure"} <= ids
    assert len(ids) >= 8


def test_a_spec_change_without_a_version_bump_fails(real_home, folder_copy):
    folder = folder_copy("acs_hospitalised")
    store = store_path(real_home)
    spec = folder / "cohort.yaml"
    spec.write_text(spec.read_text().replace("roles: [DP]", "roles: [DP, DR]"))
    errors = _errors(lint_algorithm(folder, store))
    assert any(e.field == "version" and "bump the version" in e.message for e in errors), errors
    meta = folder / "algorithm.yaml"
    meta.write_text(meta.read_text().replace("version: 1.0.0", "version: 1.1.0"))
    errors = _errors(lint_algorithm(folder, store))
    assert any("newest section is 1.0.0" in e.message for e in errors)
    record_version(folder, "DR ajouté / DR added.")
    write_fiches(load_algorithm(folder))
    assert _errors(lint_algorithm(folder, store)) == []


def test_a_frozen_list_out_of_date_with_its_spec_fails(real_home, folder_copy):
    folder = folder_copy("copd")
    spec = folder / "codelists" / "copd.yaml"
    spec.write_text(spec.read_text().replace('patterns: ["J43-J44"]', 'patterns: ["J43-J45"]'))
    errors = _errors(lint_algorithm(folder, store_path(real_home)))
    assert any(e.field == "spec_hash" and "out of date" in e.message for e in errors), errors


def test_an_unknown_code_in_a_frozen_list_fails(real_home, folder_copy):
    folder = folder_copy("copd")
    frozen = folder / "codelists" / "copd.json"
    data = json.loads(frozen.read_text())
    data["entries"][0]["code"] = "J99X9"
    frozen.write_text(json.dumps(data))
    errors = _errors(lint_algorithm(folder, store_path(real_home)))
    assert any("not in the terminology: J99X9" in e.message for e in errors), errors


def test_a_stale_fiche_fails(real_home, folder_copy):
    folder = folder_copy("heart_failure")
    meta = folder / "algorithm.yaml"
    meta.write_text(meta.read_text().replace("tous âges.", "tous âges (modifié).", 1))
    errors = _errors(lint_algorithm(folder, store_path(real_home)))
    assert [e.file.endswith("README.md") for e in errors] == [True], errors
    assert "out of date" in errors[0].message
