"""Where codes occur in SNDS-shaped data: one row per (person, code, date, source column).

The query is a sqlglot expression over the views of a :class:`DataFolder`; persons are
``BEN_IDT_ANO`` from ``IR_BEN_R`` when the beneficiary table knows them (primer §2: count
persons on BEN_IDT_ANO, never on BEN_NIR_PSA), else the pseudonym itself.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from sqlglot import exp

from sndskit.catalog.names import instantiate
from sndskit.engines.datasource import DataFolder
from sndskit.errors import SndskitError

FLUX_KEYS = (
    "FLX_DIS_DTD",
    "FLX_TRT_DTD",
    "FLX_EMT_TYP",
    "FLX_EMT_NUM",
    "FLX_EMT_ORD",
    "ORG_CLE_NUM",
    "DCT_ORD_NUM",
    "PRS_ORD_NUM",
    "REM_TYP_AFF",
)


@cache
def code_locations() -> dict[str, list[dict]]:
    path = resources.files("sndskit") / "resources" / "engines" / "code_locations.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _person(alias: str, nir: str, rank: str | None, beneficiaries: bool) -> exp.Expression:
    """BEN_IDT_ANO through IR_BEN_R when present, else NIR (|| rank) as documented."""
    own = exp.column(nir, alias)
    fallback = exp.func("concat", own, exp.column(rank, alias)) if rank else own
    if not beneficiaries:
        return fallback
    return exp.func("coalesce", exp.column("BEN_IDT_ANO", "b"), fallback)


def _join_beneficiary(query: exp.Select, alias: str, nir: str, rank: str | None) -> exp.Select:
    """LEFT JOIN one BEN_IDT_ANO per pseudonym (and rank, when the row carries it)."""
    keys = ["BEN_NIR_PSA", "BEN_RNG_GEM"] if rank else ["BEN_NIR_PSA"]
    ids = (
        exp.select(*keys, exp.alias_(exp.Max(this=exp.column("BEN_IDT_ANO")), "BEN_IDT_ANO"))
        .from_("IR_BEN_R")
        .group_by(*keys)
    )
    condition = exp.column("BEN_NIR_PSA", "b").eq(exp.column(nir, alias))
    if rank:
        condition = condition.and_(exp.column("BEN_RNG_GEM", "b").eq(exp.column(rank, alias)))
    return query.join(ids.subquery("b"), on=condition, join_type="left")


def occurrences_query(
    data: DataFolder, vocabulary: str, codes: list[str] | None = None
) -> exp.Expression:
    """UNION ALL of every place ``vocabulary`` codes occur: person_id, code, day, year, source."""
    locations = code_locations().get(vocabulary)
    if not locations:
        raise SndskitError(
            f"sndskit does not know where {vocabulary} codes are recorded",
            field="vocabulary",
            allowed=sorted(code_locations()),
        )
    beneficiaries = data.has("IR_BEN_R")
    parts: list[exp.Select] = []
    for location in locations:
        for table, year in _physical_tables(data, location):
            for column in location["columns"]:
                parts.append(_select(location, table, year, column, beneficiaries))
    if not parts:
        tables = [loc["table"] for loc in locations]
        raise SndskitError(
            f"no table holding {vocabulary} codes in the data folder ({', '.join(tables)})",
            file=data.path,
            allowed=sorted(data.tables),
        )
    if codes is not None:
        literals = [exp.Literal.string(c) for c in codes]
        parts = [
            p.where(exp.column("code_value", "x").isin(*literals)) if False else p for p in parts
        ]
    union = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    query = (
        exp.select("*").from_(union.subquery("o")).where(exp.column("code").is_(exp.null()).not_())
    )
    if codes is not None:
        query = query.where(exp.column("code").isin(*(exp.Literal.string(c) for c in codes)))
    return query


def _physical_tables(data: DataFolder, location: dict) -> list[tuple[str, int | None]]:
    template = location["table"]
    if "aa" in template:
        return [
            (instantiate(template, y), y)
            for y in data.pmsi_years()
            if data.has(instantiate(template, y)) and data.has(instantiate("T_MCOaaC", y))
        ]
    return [(template, None)] if data.has(template) else []


def _select(
    location: dict, table: str, year: int | None, column: str, beneficiaries: bool
) -> exp.Select:
    code = exp.alias_(exp.cast(exp.column(column, "t"), "VARCHAR"), "code")
    source = exp.alias_(exp.Literal.string(f"{table}.{column}"), "source")
    link = location["link"]
    if link == "dcir":
        day = exp.cast(exp.column("EXE_SOI_DTD", "p"), "DATE")
        query = exp.select(
            exp.alias_(_person("p", "BEN_NIR_PSA", "BEN_RNG_GEM", beneficiaries), "person_id"),
            code,
            exp.alias_(day, "day"),
            exp.alias_(exp.func("year", day), "year"),
            source,
        )
        on = exp.and_(*(exp.column(k, "t").eq(exp.column(k, "p")) for k in FLUX_KEYS))
        query = query.from_(exp.to_table(table).as_("t")).join(
            exp.to_table("ER_PRS_F").as_("p"), on=on
        )
        return (
            _join_beneficiary(query, "p", "BEN_NIR_PSA", "BEN_RNG_GEM") if beneficiaries else query
        )
    if link == "pmsi":
        stays = instantiate("T_MCOaaC", year)
        day = exp.cast(exp.column("EXE_SOI_DTD", "c"), "DATE")
        query = exp.select(
            exp.alias_(_person("c", "NIR_ANO_17", None, beneficiaries), "person_id"),
            code,
            exp.alias_(day, "day"),
            exp.alias_(exp.Literal.number(year), "year"),
            source,
        )
        on = exp.and_(
            *(
                exp.cast(exp.column(k, "t"), "VARCHAR").eq(exp.cast(exp.column(k, "c"), "VARCHAR"))
                for k in ("ETA_NUM", "RSA_NUM")
            )
        )
        query = query.from_(exp.to_table(table).as_("t")).join(exp.to_table(stays).as_("c"), on=on)
        return _join_beneficiary(query, "c", "NIR_ANO_17", None) if beneficiaries else query
    day = exp.cast(exp.column(location["date"], "t"), "DATE")
    query = exp.select(
        exp.alias_(_person("t", "BEN_NIR_PSA", "BEN_RNG_GEM", beneficiaries), "person_id"),
        code,
        exp.alias_(day, "day"),
        exp.alias_(exp.func("year", day), "year"),
        source,
    )
    query = query.from_(exp.to_table(table).as_("t"))
    return _join_beneficiary(query, "t", "BEN_NIR_PSA", "BEN_RNG_GEM") if beneficiaries else query
