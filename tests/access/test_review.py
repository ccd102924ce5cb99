"""One planted problem per review check, each found; the clean example passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from sndskit.access.edb import build_edb
from sndskit.access.review import render_review_markdown, review_edb
from tests.access.conftest import COHORTS, STUDY, example_study


def _review(write_study, data, documents=None, lang="fr"):
    return review_edb(build_edb(write_study(data)), documents, lang)


def test_the_clean_example_passes_with_only_the_crossed_identifiers_alert(write_study):
    review = _review(write_study, example_study())
    assert review.passed
    assert [(f.check, f.severity) for f in review.findings] == [("identifiers_crossed", "warning")]


def _drop_objective_o2(data):
    data["objectives"] = [o for o in data["objectives"] if o["id"] != "O2"]
    for cohort in data["cohorts"]:
        cohort["objectives"] = [o for o in cohort["objectives"] if o != "O2"]


def test_removing_an_objective_flags_exactly_its_variables_as_unused(write_study):
    data = example_study()
    _drop_objective_o2(data)
    review = _review(write_study, data)
    unused = {f.evidence["variable"] for f in review.findings if f.check == "unused_variable"}
    assert unused == {"T_MCOaaB.SOR_MOD", "T_MCOaaB.SEJ_NBJ"}
    assert not review.passed


def test_a_variable_the_cohort_reads_is_used_even_without_objective(write_study):
    data = example_study()
    data["variables"].append({"variable": "IR_BEN_R.BEN_SEX_COD", "justification": "sexe"})
    assert "unused_variable" not in _review(write_study, data).checks()


def _set(path, value):
    def mutate(data):
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value

    return mutate


def _add_variable(variable, objectives=("O1",)):
    def mutate(data):
        data["variables"].append(
            {"variable": variable, "justification": "planted", "objectives": list(objectives)}
        )

    return mutate


def _all(*mutations):
    def mutate(data):
        for m in mutations:
            m(data)

    return mutate


DESIGN_OFFICE = {"name": "Bureau d'études X", "type": "design_office"}
PLANTED = {
    "unused_variable": _add_variable("IR_BEN_R.BEN_RES_DPT", ["O9"]),
    "identifier_no_degradation": _set("identifiers.1.degradation", ""),
    "idle_objective": lambda d: d["objectives"].append({"id": "O3", "text": "Nothing uses me"}),
    "identifier_not_justified": _add_variable("IR_BEN_R.BEN_NAI_MOI"),
    "identifiers_forbidden": _set("route", "egb_esnd"),
    "depth_exceeded": _all(_set("route", "mr008"), _set("filed_on", "2035-01-01")),
    "depth_inconsistent": _add_variable("T_MCO15B.SOR_MOD"),
    "access_too_long": _all(
        _set("route", "mr007"),
        _set("access_duration_years", 6),
        _set("schedule", {"start": "2025-01-01", "end": "2032-12-31"}),
    ),
    "access_beyond_study": _set("schedule", {"start": "2025-01-01", "end": "2026-12-31"}),
    "matching_not_allowed": _all(
        _set("route", "mr007"),
        _set("external_data", [{"name": "registre", "matching_keys": ["NIR"]}]),
    ),
    "reuse_not_allowed": _all(_set("route", "mr007"), _set("reuse_of_existing_data", True)),
    "design_office_missing": _set("route", "mr006"),
    "component_not_allowed": _all(_set("route", "mr006"), _set("design_office", DESIGN_OFFICE)),
    "prohibited_purpose": _set(
        "objectives.0.text", "Cibler la promotion du produit auprès des prescripteurs"
    ),
    "public_interest_missing": _set("purpose.public_interest", "utile"),
    "small_cells": _set("output_plan.small_cell_threshold", 5),
}


@pytest.mark.parametrize("check", sorted(PLANTED))
def test_each_planted_problem_is_found(write_study, check):
    data = example_study()
    PLANTED[check](data)
    review = _review(write_study, data)
    assert check in review.checks()
    found = next(f for f in review.findings if f.check == check)
    assert found.source and found.rule and found.message and found.evidence
    assert not review.passed or found.severity == "warning"


def test_planted_evidence_is_specific(write_study):
    data = example_study()
    PLANTED["identifier_not_justified"](data)
    PLANTED["depth_exceeded"](data)
    review = _review(write_study, data)
    by_check = {f.check: f for f in review.findings}
    assert by_check["identifier_not_justified"].evidence["variables"] == "IR_BEN_R.BEN_NAI_MOI"
    # data from 2020 (targeting start, no depth) filed in 2035: 15 years > 9
    assert by_check["depth_exceeded"].evidence == {
        "max": 9,
        "first_year": 2020,
        "depth": 15,
        "current_year": 2035,
    }
    # the undeclared birth month makes three kinds crossed
    assert by_check["identifiers_crossed"].evidence["count"] == 3


def _docx(path, paragraphs):
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxml'
        f'formats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>'
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", xml)


def test_documents_consistency_and_protocol_headings(tmp_path, write_study):
    data = example_study()
    docs = tmp_path / "docs"
    docs.mkdir()
    headings = ["Contexte", "Objectifs", "Population", "Données requises", "Intérêt public"]
    intro = [data["title"], "Université de démonstration", "Période 2020 à 2022"]
    _docx(docs / "protocole.docx", [*intro, *headings])
    (docs / "resume.md").write_text(
        "# Un autre titre\n\nUniversité de démonstration, de 2020 à 2023\n", "utf-8"
    )
    review = _review(write_study, data, docs)
    headings_missing = [
        f.evidence["heading"] for f in review.findings if f.check == "protocol_headings"
    ]
    assert headings_missing == ["Plan d'analyse"]
    inconsistent = [f.evidence for f in review.findings if f.check == "inconsistent_documents"]
    assert inconsistent == [{"document": "resume.md", "missing": f"{data['title']}; 2022"}]


def test_english_report(write_study):
    data = example_study()
    data["output_plan"]["small_cell_threshold"] = 5
    review = _review(write_study, data, lang="en")
    text = render_review_markdown(review, data["title"])
    assert "FAIL" in text and "small-cell threshold 5" in text and "error" in text


def test_cli_review_exit_code_and_reports(tmp_path, store_home):
    env = {**os.environ, "SNDSKIT_HOME": str(store_home), "COLUMNS": "200"}
    command = [sys.executable, "-m", "sndskit", "access", "review"]
    ok = subprocess.run(
        [*command, str(STUDY), "--out", str(tmp_path / "ok")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    report = json.loads((tmp_path / "ok" / "review.json").read_text(encoding="utf-8"))
    assert report["passed"] is True
    bad = STUDY.read_text(encoding="utf-8").replace(
        "small_cell_threshold: 11", "small_cell_threshold: 3"
    )
    bad = bad.replace("../../cohorts/examples/", str(COHORTS) + "/")
    (tmp_path / "study.yaml").write_text(bad, encoding="utf-8")
    failed = subprocess.run(
        [*command, str(tmp_path), "--out", str(tmp_path / "ko")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 1, failed.stderr
    assert "seuil de petits effectifs 3" in (tmp_path / "ko" / "review.md").read_text("utf-8")


def test_every_check_has_a_planted_problem_in_these_tests():
    from sndskit.access.rules import get_checks

    covered = set(PLANTED) | {"identifiers_crossed", "inconsistent_documents", "protocol_headings"}
    assert covered == set(get_checks())
