"""Errors that reach the user: each names where the problem is and what is allowed."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class SndskitError(Exception):
    """A user-facing error with its location (file, line, field) and the allowed values.

    >>> str(SndskitError("unknown product", file="x.json", field="produit", allowed=["DCIR"]))
    "x.json: field 'produit': unknown product (allowed: DCIR)"
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        allowed: Iterable[str] | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.allowed = list(allowed) if allowed is not None else None
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line is not None else "") + ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        if self.field:
            where += f"field '{self.field}': "
        text = where + self.message
        if self.allowed is not None:
            shown = ", ".join(self.allowed[:20])
            more = f", … ({len(self.allowed)} in all)" if len(self.allowed) > 20 else ""
            text += f" (allowed: {shown}{more})"
        if self.hint:
            text += f" — {self.hint}"
        return text


class UnknownNameError(SndskitError, KeyError):
    """A table, field or nomenclature name that does not exist; carries close suggestions."""

    def __init__(self, kind: str, name: str, suggestions: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = suggestions
        hint = f"did you mean: {', '.join(suggestions)}?" if suggestions else None
        SndskitError.__init__(self, f"unknown {kind} '{name}'", hint=hint)

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.render()
