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
