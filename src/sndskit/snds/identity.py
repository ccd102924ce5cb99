"""The one person-identity query: pseudonym → person, used by cohorts, code-list usage and
orphans, and rates, so they all count the same persons.

Rules (SNDS primer §1-§2):

- a person is ``BEN_IDT_ANO`` of ``IR_BEN_R``; a pseudonym without one falls back to
  ``BEN_NIR_PSA || BEN_RNG_GEM``. Count persons, never pseudonyms (one person can carry
  several ``BEN_NIR_PSA``);
- DCIR rows carry (``BEN_NIR_PSA``, ``BEN_RNG_GEM``): the twin rank keeps same-sex twins
  apart; PMSI rows carry only ``NIR_ANO_17`` = ``BEN_NIR_PSA``, so twins sharing a pseudonym
  cannot be told apart there (the smallest person id is taken);
- fictitious NIR (``BEN_CDI_NIR`` other than 00, 03, 04) are dropped when asked;
- beneficiaries without care since 2013 live in ``IR_BEN_R_ARC``: read with ``IR_BEN_R``
  when the data holds it.

Each builder returns a :class:`~sndskit.engines.contract.PlanStep`; the steps are
``pseudonyms`` → ``nir_person`` (DCIR linkage), ``pmsi_person`` (PMSI linkage) and
``persons`` (one row per person with sex, birth year and death date).
"""

from __future__ import annotations

from sqlglot import exp

from sndskit.engines.contract import PlanStep
from sndskit.snds.facts import (
    ARCHIVED_BENEFICIARIES,
    BENEFICIARIES,
    MISSING_DATE,
    VALID_CDI_NIR,
)
from sndskit.snds.schema import DataSchema

ATTRIBUTES = ("BEN_SEX_COD", "BEN_NAI_ANN", "BEN_DCD_DTE")


def _date(text: str) -> exp.Expression:
    return exp.cast(exp.Literal.string(text), "DATE")


def _pseudonym_rows(
    schema: DataSchema, table: str, attributes: bool, exclude_fictitious: bool
) -> exp.Select:
    needed = ["BEN_NIR_PSA", "BEN_RNG_GEM", "BEN_IDT_ANO"]
    schema.use(table, *needed, *(ATTRIBUTES if attributes else ()))
    person = exp.func(
        "coalesce",
        exp.column("BEN_IDT_ANO", "b"),
        exp.func(
            "concat",
            exp.column("BEN_NIR_PSA", "b"),
            exp.cast(exp.column("BEN_RNG_GEM", "b"), "VARCHAR"),
        ),
    )
    columns: list[exp.Expression] = [
        exp.column("BEN_NIR_PSA", "b"),
        exp.column("BEN_RNG_GEM", "b"),
        exp.alias_(person, "person_id"),
    ]
    if attributes:
        death = exp.cast(exp.column("BEN_DCD_DTE", "b"), "DATE")
        columns += [
            exp.alias_(schema.text("b", table, "BEN_SEX_COD"), "sex"),
            exp.alias_(exp.cast(exp.column("BEN_NAI_ANN", "b"), "INT"), "birth_year"),
            exp.alias_(exp.Nullif(this=death, expression=_date(MISSING_DATE)), "death_date"),
        ]
    rows = exp.select(*columns).from_(exp.to_table(table).as_("b"))
    if exclude_fictitious:
        cdi = schema.text("b", table, "BEN_CDI_NIR")
        rows = rows.where(
            exp.or_(
                cdi.is_(exp.null()),
                cdi.copy().isin(*(exp.Literal.string(v) for v in VALID_CDI_NIR)),
            )
        )
    return rows


def pseudonyms(
    schema: DataSchema, *, exclude_fictitious: bool, attributes: bool = True
) -> PlanStep:
    """One row per pseudonym (BEN_NIR_PSA, BEN_RNG_GEM) of IR_BEN_R (∪ IR_BEN_R_ARC when the
    data holds it) with its person id (and, with ``attributes``, sex, birth year, death)."""
    tables = [BENEFICIARIES]
    if schema.present(ARCHIVED_BENEFICIARIES):
        tables.append(ARCHIVED_BENEFICIARIES)
    parts = [_pseudonym_rows(schema, t, attributes, exclude_fictitious) for t in tables]
    query: exp.Expression = parts[0]
    for part in parts[1:]:
        query = exp.union(query, part, distinct=False)
    comment = "one row per pseudonym (BEN_NIR_PSA, BEN_RNG_GEM) → person BEN_IDT_ANO"
    if len(tables) > 1:
        comment += ", archived beneficiaries (IR_BEN_R_ARC) included"
    if exclude_fictitious:
        comment += "; fictitious NIR dropped"
    return PlanStep("pseudonyms", comment, query)


def nir_person() -> PlanStep:
    """DCIR linkage: (BEN_NIR_PSA, BEN_RNG_GEM) → one person."""
    return PlanStep(
        "nir_person",
        "DCIR linkage: pseudonym and rank → person",
        exp.select(
            "BEN_NIR_PSA",
            "BEN_RNG_GEM",
            exp.alias_(exp.Min(this=exp.column("person_id")), "person_id"),
        )
        .from_("pseudonyms")
        .group_by("BEN_NIR_PSA", "BEN_RNG_GEM"),
    )


def pmsi_person() -> PlanStep:
    """PMSI linkage: NIR_ANO_17 (= BEN_NIR_PSA, no twin rank) → one person."""
    return PlanStep(
        "pmsi_person",
        "PMSI linkage: NIR_ANO_17 → person (twins sharing a pseudonym cannot be told apart)",
        exp.select("BEN_NIR_PSA", exp.alias_(exp.Min(this=exp.column("person_id")), "person_id"))
        .from_("pseudonyms")
        .group_by("BEN_NIR_PSA"),
    )


def persons() -> PlanStep:
    """One row per person: sex, birth year, death date (NULL when 1600-01-01)."""
    return PlanStep(
        "persons",
        "one row per person: sex, birth year, death date (1600-01-01 = none)",
        exp.select(
            "person_id",
            exp.alias_(exp.Min(this=exp.column("sex")), "sex"),
            exp.alias_(exp.Min(this=exp.column("birth_year")), "birth_year"),
            exp.alias_(exp.Min(this=exp.column("death_date")), "death_date"),
        )
        .from_("pseudonyms")
        .group_by("person_id"),
    )


def identity_steps(
    schema: DataSchema, *, exclude_fictitious: bool, attributes: bool = True
) -> list[PlanStep]:
    """Every identity step: pseudonyms, nir_person, pmsi_person (and persons with
    ``attributes``)."""
    steps = [
        pseudonyms(schema, exclude_fictitious=exclude_fictitious, attributes=attributes),
        nir_person(),
        pmsi_person(),
    ]
    return [*steps, persons()] if attributes else steps
