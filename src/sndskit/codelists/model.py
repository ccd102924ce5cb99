"""A frozen code list: every code with its label and why it is in the list."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sndskit.codelists.spec import CodelistSpec
from sndskit.errors import SndskitError
from sndskit.io import write_text_atomic
from sndskit.specs import validation_error

Via = Literal[
    "code", "pattern", "keyword", "synonym", "abbreviation", "descendant", "relation", "imported"
]


class Provenance(BaseModel):
    """Why a code is in the list: the rule, the mechanism and its detail."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str
    via: Via
    detail: str = ""
    inferred: bool = False  # True when a relation hop was inferred by sndskit


class CodeEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vocabulary: str
    code: str
    label: str
    found_from: list[Provenance]

    @property
    def key(self) -> tuple[str, str]:
        return self.vocabulary, self.code


class ExcludedEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vocabulary: str
    code: str
    label: str
    reason: str


class Codelist(BaseModel):
    """The resolved, reproducible list, with the terminology versions it was resolved on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["sndskit-codelist/1"] = "sndskit-codelist/1"
    name: str
    description: str
    author: str = ""
    version: str = ""
    source: str = ""
    built_at: str
    spec: CodelistSpec | None = None  # None for imported lists
    spec_hash: str = ""
    terminology: dict[str, str] = Field(default_factory=dict)  # vocabulary → source version
    store: dict[str, str] = Field(default_factory=dict)  # imported_at, sources hashes …
    entries: list[CodeEntry]
    excluded: list[ExcludedEntry] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def codes(self, vocabulary: str | None = None) -> list[str]:
        return [e.code for e in self.entries if vocabulary is None or e.vocabulary == vocabulary]

    def vocabularies(self) -> list[str]:
        return sorted({e.vocabulary for e in self.entries})


def save_codelist(codelist: Codelist, path: Path | str) -> Path:
    """Write the frozen list as JSON (atomically: an old file survives a failure)."""
    return write_text_atomic(path, codelist.model_dump_json(indent=2, exclude_none=True) + "\n")


def load_codelist(path: Path | str) -> Codelist:
    path = Path(path)
    try:
        return Codelist.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SndskitError("file not found", file=path) from None
    except ValidationError as exc:
        raise validation_error(exc, path) from None
