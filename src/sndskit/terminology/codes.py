"""Code patterns as users write them: ``E11*``, ``A10B%``, ``E10-E14``, ``re:^I2[0-5]``.

A pattern is parsed into a :class:`CodePattern` and turned into a sqlglot predicate whose
values are literals — never into SQL text — or matched in Python against a list of codes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlglot import exp

from sndskit.errors import SndskitError

_CODE = re.compile(r"^[A-Za-z0-9+]*[0-9][A-Za-z0-9+]*$|^[A-Za-z]{1,2}[0-9]?[A-Za-z0-9]*$")
_RANGE = re.compile(r"^([A-Za-z0-9.+]+)\s*-\s*([A-Za-z0-9.+]+)$")


@dataclass(frozen=True)
class CodePattern:
    """``kind``: ``exact``, ``prefix``, ``range`` (inclusive, on the bounds' length), ``regex``.

    >>> parse_code_pattern("E11*")
    CodePattern(kind='prefix', value='E11', upper=None)
    >>> parse_code_pattern("e10-e14")
    CodePattern(kind='range', value='E10', upper='E14')
    >>> parse_code_pattern("I21.0") is None      # a plain code is not a pattern
    True
    """

    kind: Literal["exact", "prefix", "range", "regex"]
    value: str
    upper: str | None = None

    def matches(self, code: str) -> bool:
        if self.kind == "exact":
            return code == self.value
        if self.kind == "prefix":
            return code.startswith(self.value)
        if self.kind == "range":
            return self.value <= code[: len(self.value)] <= self.upper
        return re.search(self.value, code) is not None

    def predicate(self, column: exp.Expression) -> exp.Expression:
        """A sqlglot boolean expression on ``column``; the pattern's text is a literal."""
        value = exp.Literal.string(self.value)
        if self.kind == "exact":
            return column.eq(value)
        if self.kind == "prefix":
            return exp.func("starts_with", column, value)
        if self.kind == "range":
            head = exp.Substring(
                this=column, start=exp.Literal.number(1), length=exp.Literal.number(len(self.value))
            )
            return exp.Between(this=head, low=value, high=exp.Literal.string(self.upper))
        return exp.func("regexp_matches", column, value)


def _clean(code: str) -> str:
    return code.strip().replace(".", "").upper()


def parse_code_pattern(text: str) -> CodePattern | None:
    """The pattern ``text`` denotes, or None when it does not look like a code pattern."""
    raw = text.strip()
    if raw.startswith("re:") or (len(raw) > 2 and raw.startswith("/") and raw.endswith("/")):
        expression = raw[3:] if raw.startswith("re:") else raw[1:-1]
        try:
            re.compile(expression)
        except re.error as exc:
            raise SndskitError(f"invalid regular expression {expression!r}: {exc}") from None
        return CodePattern("regex", expression)
    if raw.endswith(("*", "%")) and len(raw) > 1:
        stem = _clean(raw.rstrip("*%"))
        if not stem or not re.fullmatch(r"[A-Z0-9+]+", stem):
            raise SndskitError(
                f"invalid code prefix {raw!r}: letters and digits before '*' or '%' only"
            )
        return CodePattern("prefix", stem)
    if m := _RANGE.match(raw):
        low, high = _clean(m.group(1)), _clean(m.group(2))
        if _CODE.match(low) and _CODE.match(high) and any(ch.isdigit() for ch in low + high):
            if len(low) != len(high) or low > high:
                raise SndskitError(
                    f"invalid code range {raw!r}: bounds must have the same length, low ≤ high"
                )
            return CodePattern("range", low, high)
    return None


def expand_code_pattern(pattern: str, codes: Iterable[str], *, top_only: bool = False) -> list[str]:
    """Codes of ``codes`` matching ``pattern`` (a pattern or a plain code).

    With ``top_only``, keep only the shortest matching codes (the family heads).

    >>> expand_code_pattern("I60-I62", ["I60", "I600", "I61", "I62", "I63"], top_only=True)
    ['I60', 'I61', 'I62']
    >>> expand_code_pattern("I21.0", ["I21", "I210"])
    ['I210']
    """
    parsed = parse_code_pattern(pattern) or CodePattern("exact", _clean(pattern))
    matched = sorted(code for code in codes if parsed.matches(code))
    if top_only and matched:
        shortest = min(len(code) for code in matched)
        matched = [code for code in matched if len(code) == shortest]
    return matched
