"""Malformed specs: the error names the file, the line, the field and the allowed values."""

from __future__ import annotations

import pytest

from sndskit.codelists.spec import CodelistSpec
from sndskit.errors import SndskitError
from sndskit.specs import load_spec

GOOD = """\
name: t2d_metformin
description: Type 2 diabetes treated by metformin
vocabularies: [CIM10, CIP13]
rules:
  - id: t2d
    vocabulary: CIM10
    patterns: ["E11*"]
  - id: metformin
    vocabulary: SUBSTANCE
    terms: [metformine]
"""


def _write(tmp_path, text):
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_spec_loads_and_drug_rules_bridge_to_dispensed_codes(tmp_path):
    spec = load_spec(_write(tmp_path, GOOD), CodelistSpec)
    assert spec.targets_of(spec.rules[1]) == ["CIP13"]  # only what the list keeps
    assert spec.targets_of(spec.rules[0]) == []
    assert spec.descendants_for(spec.rules[0]) is True


@pytest.mark.parametrize(
    ("broken", "line", "field", "needle"),
    [
        (GOOD.replace("vocabulary: CIM10", "vocabulary: CIM11"), 6, "rules.0.vocabulary", "CCAM"),
        (GOOD.replace('patterns: ["E11*"]', 'patterns: ["E11"]'), 7, "rules.0.patterns", "E11*"),
        (
            GOOD.replace("    terms: [metformine]", "    terms: [metformine]\n    colour: red"),
            11,
            "rules.1.colour",
            "unknown field",
        ),
        (
            GOOD.replace('    patterns: ["E11*"]', '    patterns: ["E11*"]\n    codes: [E11]'),
            5,
            "rules.0",
            "exactly one of",
        ),
        (
            GOOD.replace("vocabularies: [CIM10, CIP13]", "vocabularies: [CIM10]"),
            None,
            None,
            "does not keep",
        ),
    ],
)
def test_errors_point_at_the_problem(tmp_path, broken, line, field, needle):
    path = _write(tmp_path, broken)
    with pytest.raises(SndskitError) as info:
        load_spec(path, CodelistSpec)
    error = info.value
    assert error.file == str(path)
    assert needle in str(error)
    if line is not None:
        assert error.line == line
    if field is not None:
        assert error.field == field


def test_invalid_yaml_names_its_line(tmp_path):
    path = _write(tmp_path, GOOD.replace("rules:", "rules: [\n"))
    with pytest.raises(SndskitError, match="not valid YAML") as info:
        load_spec(path, CodelistSpec)
    assert info.value.line is not None


def test_relation_without_a_path_lists_the_reachable_vocabularies(tmp_path):
    text = GOOD.replace(
        "    terms: [metformine]", "    terms: [metformine]\n    relations: [CIM10]"
    )
    with pytest.raises(SndskitError, match="reachable: CIS, CIP13, CIP7, UCD"):
        load_spec(_write(tmp_path, text), CodelistSpec)


def test_unknown_field_lists_the_allowed_fields_and_the_closest(tmp_path):
    path = _write(tmp_path, GOOD.replace("vocabularies:", "vocabularys:"))
    with pytest.raises(SndskitError) as info:
        load_spec(path, CodelistSpec)
    error = info.value
    assert (error.line, error.field, error.message) == (3, "vocabularys", "unknown field")
    assert set(CodelistSpec.model_fields) == set(error.allowed)
    assert "did you mean" in error.hint and "vocabularies" in error.hint


def test_unknown_field_inside_a_rule_lists_the_rule_fields(tmp_path):
    path = _write(tmp_path, GOOD.replace("    patterns:", "    paterns:"))
    with pytest.raises(SndskitError) as info:
        load_spec(path, CodelistSpec)
    error = info.value
    assert error.line == 7 and error.field == "rules.0.paterns"
    assert "patterns" in error.allowed and "terms" in error.allowed
    assert "name" not in error.allowed  # the rule's fields, not the spec's
    assert "patterns" in error.hint


def test_a_wrong_codelist_reference_names_the_referring_file_and_line(tmp_path):
    from sndskit.codelists.library import load_codelist_ref
    from sndskit.specs import line_in_file, line_of_value

    cohort = tmp_path / "cohort.yaml"
    cohort.write_text("name: x\nentry:\n  events:\n    - {codelist: t2d_drgus}\n", "utf-8")
    line = line_in_file(cohort, ("entry", "events", 0, "codelist"))
    assert line == 4 == line_of_value(cohort, "codelist", "t2d_drgus")
    with pytest.raises(SndskitError) as info:
        load_codelist_ref("t2d_drgus", tmp_path, spec_file=cohort, spec_line=line)
    assert (info.value.file, info.value.line) == (str(cohort), 4)
    assert "t2d_drugs" in info.value.hint  # did you mean the curated list
    broken = tmp_path / "mine.yaml"
    broken.write_text(GOOD.replace("rules:", "rulez:"), "utf-8")
    with pytest.raises(SndskitError) as info:
        load_codelist_ref("mine.yaml", tmp_path, spec_file=cohort, spec_line=4)
    assert info.value.file == str(broken) and f"{cohort}:4" in info.value.hint
