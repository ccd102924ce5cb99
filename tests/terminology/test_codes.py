"""Code patterns: parsed literally, matched in Python and in SQL alike."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlglot import exp

from sndskit.errors import SndskitError
from sndskit.terminology.codes import CodePattern, expand_code_pattern, parse_code_pattern

CODES = ["E10", "E100", "E11", "E110", "E119", "E12", "E14", "E149", "E15", "I21", "A10BA02"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("E11*", ["E11", "E110", "E119"]),
        ("e11%", ["E11", "E110", "E119"]),
        ("E10-E14", ["E10", "E100", "E11", "E110", "E119", "E12", "E14", "E149"]),
        ("E11.9", ["E119"]),
        ("re:^E1[01]$", ["E10", "E11"]),
        ("/9$/", ["E119", "E149"]),
        ("A10B%", ["A10BA02"]),
    ],
)
def test_patterns_expand_to_the_codes_they_name(text, expected):
    assert expand_code_pattern(text, CODES) == expected


def test_family_heads_only():
    assert expand_code_pattern("E10-E14", CODES, top_only=True) == ["E10", "E11", "E12", "E14"]


@pytest.mark.parametrize("text", ["E14-E10", "E1-E14", "re:[unclosed", "%*", "E1'1*", "E11;DROP*"])
def test_malformed_patterns_are_clear_errors(text):
    with pytest.raises(SndskitError):
        parse_code_pattern(text)


@pytest.mark.parametrize("text", ["diabète", "avc", "E11", "type 2"])
def test_plain_words_and_codes_are_not_patterns(text):
    assert parse_code_pattern(text) is None


hostile = st.text(
    alphabet=st.sampled_from(list("E1';-%*\"()\\ORDROP TABLE--/")), min_size=1, max_size=12
)


@given(st.sampled_from(["prefix", "exact", "regex"]), hostile)
def test_sql_predicate_agrees_with_python_and_keeps_values_literal(kind, value):
    pattern = CodePattern(kind, value)
    if kind == "regex":
        try:
            import re

            re.compile(value)
        except re.error:
            return
    con = duckdb.connect()
    con.execute("CREATE TABLE t (code VARCHAR)")
    con.execute("INSERT INTO t SELECT unnest(?)", [[*CODES, value]])
    sql = exp.select("code").from_("t").where(pattern.predicate(exp.column("code"))).sql("duckdb")
    try:
        got = sorted(r[0] for r in con.execute(sql).fetchall())
    except duckdb.Error:  # RE2 rejects some Python regexes: an error, never injected SQL
        assert kind == "regex"
        return
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == len(CODES) + 1
    if kind != "regex":  # RE2 and Python's re differ on corner cases
        assert got == sorted(c for c in [*CODES, value] if pattern.matches(c))
