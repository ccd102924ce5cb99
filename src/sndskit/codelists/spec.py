"""Code-list specifications: what to include, why, and from which vocabularies.

A spec is YAML (or JSON)::

    name: t2d_metformin
    description: Type 2 diabetes treated by metformin
    author: Équipe X
    version: "1.0"
    vocabularies: [CIM10, CIP13, CIP7, UCD]     # what the frozen list contains
    rules:
      - id: t2d_diagnoses
        vocabulary: CIM10
        patterns: ["E11*"]
      - id: metformin
        vocabulary: ATC
        codes: [A10BA02]                        # bridges to CIP13 / CIP7 / UCD boxes and units
    exclude:
      terms: ["gestationnel"]

Rules include by search ``terms`` (all words, any order, accents ignored; with
``exclude_words``), by ``codes``, by ``patterns`` (``E11*``, ``E10-E14``, ``re:…``), and follow
relations to the vocabularies listed in ``relations`` (default for drug rules: the SNDS
drug codes in ``vocabularies`` — CIP13 and CIP7 for town pharmacies, UCD for hospitals).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sndskit.terminology.codes import parse_code_pattern
from sndskit.terminology.model import VOCABULARIES
from sndskit.terminology.relations import PATHS

DRUG_VOCABULARIES = ("ATC", "SUBSTANCE", "CIS", "CIP13", "CIP7", "UCD")
DISPENSED_DRUG_CODES = ("CIP13", "CIP7", "UCD")
_ID = re.compile(r"^[a-z0-9_][a-z0-9_.-]*$")


def _vocabulary(value: str) -> str:
    upper = value.strip().upper()
    if upper not in VOCABULARIES:
        allowed = ", ".join(VOCABULARIES)
        raise ValueError(f"unknown vocabulary {value!r} (allowed: {allowed})")
    return upper


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Spec):
    """One inclusion rule; exactly one of ``terms``, ``codes``, ``patterns``."""

    id: str = Field(description="short identifier, shown as the provenance of every code")
    vocabulary: str
    terms: list[str] | None = None
    exclude_words: list[str] = Field(default_factory=list)
    codes: list[str] | None = None
    patterns: list[str] | None = None
    include_descendants: bool | None = None  # None: the spec's default
    relations: list[str] | None = None  # None: automatic for drug rules
    allow_typos: bool = False

    _vocabulary = field_validator("vocabulary")(_vocabulary)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("use lower-case letters, digits, '_', '-' or '.'")
        return value

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, values: list[str] | None) -> list[str] | None:
        for value in values or []:
            if parse_code_pattern(value) is None:
                raise ValueError(f"{value!r} is not a pattern (E11*, A10B%, E10-E14, re:^I2)")
        return values

    @field_validator("relations")
    @classmethod
    def _relations(cls, values: list[str] | None) -> list[str] | None:
        return [_vocabulary(v) for v in values] if values is not None else None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        given = [k for k in ("terms", "codes", "patterns") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                f"rule {self.id!r}: give exactly one of terms, codes, patterns "
                f"(got {', '.join(given) or 'none'})"
            )
        if self.exclude_words and not self.terms:
            raise ValueError(f"rule {self.id!r}: exclude_words only applies to terms")
        for target in self.relations or []:
            if (self.vocabulary, target) not in PATHS:
                reachable = [b for a, b in PATHS if a == self.vocabulary] or ["none"]
                raise ValueError(
                    f"rule {self.id!r}: no relation from {self.vocabulary} to {target} "
                    f"(reachable: {', '.join(reachable)})"
                )
        return self


class Exclusions(_Spec):
    codes: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    terms: list[str] = Field(default_factory=list)

    _patterns = field_validator("patterns")(Rule._patterns.__func__)


class CodelistSpec(_Spec):
    """A code list to resolve against the terminology store."""

    name: str
    description: str
    author: str = ""
    version: str = "1.0"
    source: str = Field(default="", description="reference the definition follows")
    vocabularies: list[str] = Field(min_length=1)
    rules: list[Rule] = Field(min_length=1)
    exclude: Exclusions = Field(default_factory=Exclusions)
    include_descendants: bool = True
    valid_at: date | None = None

    @field_validator("vocabularies")
    @classmethod
    def _vocabularies(cls, values: list[str]) -> list[str]:
        return [_vocabulary(v) for v in values]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("use lower-case letters, digits, '_', '-' or '.'")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        ids = [r.id for r in self.rules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate rule ids: {', '.join(duplicates)}")
        for rule in self.rules:
            reaches = set(self.targets_of(rule)) | {rule.vocabulary}
            if not reaches & set(self.vocabularies):
                raise ValueError(
                    f"rule {rule.id!r} yields {rule.vocabulary} codes, which the list does not "
                    f"keep (vocabularies: {', '.join(self.vocabularies)}); add it or relations"
                )
        return self

    def targets_of(self, rule: Rule) -> list[str]:
        """Vocabularies a rule's codes are bridged to through relations."""
        if rule.relations is not None:
            return rule.relations
        if rule.vocabulary in DRUG_VOCABULARIES:
            return [
                v
                for v in DISPENSED_DRUG_CODES
                if v in self.vocabularies and (rule.vocabulary, v) in PATHS
            ]
        return []

    def descendants_for(self, rule: Rule) -> bool:
        return (
            self.include_descendants
            if rule.include_descendants is None
            else rule.include_descendants
        )
