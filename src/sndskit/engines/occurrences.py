"""Where codes occur in SNDS-shaped data: one row per (person, code, day, year, source column).

Every place a vocabulary's codes are recorded comes from the event-source registry
(:func:`sndskit.snds.sources.code_locations`); persons come from the one identity query
(:mod:`sndskit.snds.identity`), so code-list usage counts the same persons as cohorts.
"""

from __future__ import annotations

import logging

from sqlglot import exp

from sndskit.engines.contract import PlanStep
from sndskit.errors import SndskitError
from sndskit.snds import identity
from sndskit.snds.facts import BENEFICIARIES, FLUX_KEYS, STAY_KEYS, pmsi_table
from sndskit.snds.schema import DataSchema
from sndskit.snds.sources import CodeLocation, code_locations

log = logging.getLogger(__name__)
CLAIMS = "ER_PRS_F"


def identity_plan(schema: DataSchema) -> list[PlanStep]:
    """The linkage steps (pseudonyms, nir_person, pmsi_person); fictitious NIR dropped when
    the beneficiary table says which they are (``BEN_CDI_NIR``), as cohorts do."""
    exclude = schema.has_column(BENEFICIARIES, "BEN_CDI_NIR")
    if not exclude:
        log.warning("IR_BEN_R has no BEN_CDI_NIR: fictitious NIR cannot be dropped")
    return identity.identity_steps(schema, exclude_fictitious=exclude, attributes=False)


def occurrences_query(
    schema: DataSchema, vocabulary: str, codes: list[str] | None = None
) -> exp.Select:
    """UNION ALL of every place ``vocabulary`` codes occur: person_id, code, day, year, source.
    Reads the linkage steps of :func:`identity_plan`."""
    locations = code_locations(vocabulary)
    if not locations:
        raise SndskitError(
            f"sndskit does not know where {vocabulary} codes are recorded",
            field="vocabulary",
            allowed=sorted({loc.column.vocabulary for loc in code_locations()}),
        )
    parts = [
        _select(schema, location, table, year)
        for location in locations
        for table, year in _physical_tables(schema, location)
    ]
    if not parts:
        tables = sorted({loc.column.table for loc in locations})
        raise SndskitError(
            f"no table holding {vocabulary} codes in the data ({', '.join(tables)})",
            field="data",
            allowed=sorted(schema.columns or {}),
        )
    union: exp.Expression = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    query = (
        exp.select("*").from_(union.subquery("o")).where(exp.column("code").is_(exp.null()).not_())
    )
    if codes is not None:
        query = query.where(exp.column("code").isin(*(exp.Literal.string(c) for c in codes)))
    return query


def _physical_tables(schema: DataSchema, location: CodeLocation) -> list[tuple[str, int | None]]:
    template = location.column.table
    if location.link == "pmsi":
        years = sorted(
            {
                2000 + int(name[5:7])
                for name in schema.columns or {}
                if name.startswith("T_MCO") and name[5:7].isdigit()
            }
        )
        return [
            (pmsi_table(template, y), y)
            for y in years
            if schema.present(pmsi_table(template, y))
            and schema.present(pmsi_table(location.patients, y))
        ]
    return [(template, None)] if schema.present(template) else []


def _select(schema: DataSchema, location: CodeLocation, table: str, year: int | None) -> exp.Select:
    column = location.column.column
    code = exp.alias_(exp.cast(exp.column(column, "t"), "VARCHAR"), "code")
    schema.use(table, column)
    source = exp.alias_(exp.Literal.string(f"{table}.{column}"), "source")
    query = exp.select(exp.column("person_id", "m"), code).from_(exp.to_table(table).as_("t"))
    if location.link == "dcir":
        day = schema.as_date("p", CLAIMS, location.date)
        schema.use(CLAIMS, "BEN_NIR_PSA", "BEN_RNG_GEM")
        query = query.join(
            exp.to_table(CLAIMS).as_("p"),
            on=schema.keys_equal(("t", table), ("p", CLAIMS), FLUX_KEYS),
        ).join(
            exp.to_table("nir_person").as_("m"),
            on="m.BEN_NIR_PSA = p.BEN_NIR_PSA AND m.BEN_RNG_GEM = p.BEN_RNG_GEM",
        )
        when: exp.Expression = exp.func("year", day.copy())
    elif location.link == "pmsi":
        patients = pmsi_table(location.patients, year)
        day = schema.as_date("c", patients, location.date)
        query = query.join(
            exp.to_table(patients).as_("c"),
            on=schema.keys_equal(("t", table), ("c", patients), STAY_KEYS),
        ).join(
            exp.to_table("pmsi_person").as_("m"),
            on=exp.column("BEN_NIR_PSA", "m").eq(schema.text("c", patients, "NIR_ANO_17")),
        )
        when = exp.Literal.number(year)
    else:
        day = schema.as_date("t", table, location.date)
        schema.use(table, "BEN_NIR_PSA", "BEN_RNG_GEM")
        query = query.join(
            exp.to_table("nir_person").as_("m"),
            on="m.BEN_NIR_PSA = t.BEN_NIR_PSA AND m.BEN_RNG_GEM = t.BEN_RNG_GEM",
        )
        when = exp.func("year", day.copy())
    return query.select(exp.alias_(day, "day"), exp.alias_(when, "year"), source)
