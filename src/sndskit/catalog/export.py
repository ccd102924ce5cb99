"""Plain-data views of the catalogue (what the CLI prints as JSON and the web app shows)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from sndskit.catalog.catalog import Catalog
from sndskit.catalog.models import JoinHop
from sndskit.catalog.names import instantiate


def tables_overview(catalog: Catalog, product: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "name": t.name,
            "title": t.title,
            "product": t.product,
            "n_fields": len(t.fields),
            "primary_key": list(t.primary_key),
            "n_foreign_keys": len(t.foreign_keys),
        }
        for t in catalog.list_tables(product)
    ]


def describe_table(catalog: Catalog, name: str) -> dict[str, Any]:
    """A table as a JSON-ready dict, named as asked (``T_MCO19B``) with its template."""
    table, resolved = catalog.resolve(name)
    year = resolved.year
    archive = year is not None and resolved.physical != instantiate(table.name, year)
    return {
        "name": instantiate(table.name, year, dcir_archive=archive),
        "template": table.name,
        "year": year,
        "title": table.title,
        "product": table.product,
        "scope": table.scope,
        "observation": table.observation,
        "is_sample": catalog.is_sample,
        "fields": [
            {
                "name": f.name,
                "type": f.type,
                "storage_type": f.storage_type,
                "length": f.length,
                "description": f.description,
                "nomenclature": f.nomenclature,
                "nomenclature_column": f.nomenclature_column,
                "date_created": f.date_created,
                "date_deleted": f.date_deleted,
                "enum": list(f.enum) if f.enum else None,
                "allows_empty": f.allows_empty,
                "type_note": f.type_note,
            }
            for f in table.fields
        ],
        "primary_key": list(table.primary_key),
        "foreign_keys": [
            {
                "columns": list(fk.fields),
                "reference_table": instantiate(fk.reference_table, year),
                "reference_columns": list(fk.reference_fields),
                "note": fk.note,
            }
            for fk in table.foreign_keys
        ],
        "source_file": table.source_file,
    }


def _hop_notes(catalog: Catalog, hop: JoinHop) -> list[str]:
    """Warn where the two sides of a join column are declared with different types."""
    left, right = catalog.get_table(hop.left), catalog.get_table(hop.right)
    notes = [hop.note] if hop.note else []
    for lcol, rcol in zip(hop.left_columns, hop.right_columns, strict=True):
        lf, rf = left.field(lcol), right.field(rcol)
        if lf and rf and lf.type != rf.type:
            read_as = (
                "string" if lf.storage_type == rf.storage_type == "string" else "a common type"
            )
            notes.append(
                f"{hop.left}.{lcol} is {lf.type} but {hop.right}.{rcol} is {rf.type}: "
                f"read both as {read_as}"
            )
    return notes


def join_sql(hops: list[JoinHop], dialect: str = "duckdb") -> str:
    """An example ``SELECT`` joining the path, built as a sqlglot expression.

    >>> from sndskit.catalog.models import JoinHop
    >>> print(join_sql([JoinHop(left="A", right="B", left_columns=("K",), right_columns=("K",))]))
    SELECT * FROM A AS t0 JOIN B AS t1 ON t0.K = t1.K
    """
    query = exp.select("*").from_(exp.to_table(hops[0].left).as_("t0"))
    for i, hop in enumerate(hops, start=1):
        condition = exp.and_(
            *(
                exp.column(lcol, table=f"t{i - 1}").eq(exp.column(rcol, table=f"t{i}"))
                for lcol, rcol in zip(hop.left_columns, hop.right_columns, strict=True)
            )
        )
        query = query.join(exp.to_table(hop.right).as_(f"t{i}"), on=condition)
    return query.sql(dialect=dialect)


def join_path_as_dict(
    catalog: Catalog, left: str, right: str, *, dialect: str = "duckdb"
) -> dict[str, Any]:
    hops = catalog.find_join_path(left, right)
    return {
        "from": hops[0].left if hops else left,
        "to": hops[-1].right if hops else right,
        "is_sample": catalog.is_sample,
        "hops": [
            {
                "left": hop.left,
                "right": hop.right,
                "left_columns": list(hop.left_columns),
                "right_columns": list(hop.right_columns),
                "on": [
                    {"left": lc, "right": rc}
                    for lc, rc in zip(hop.left_columns, hop.right_columns, strict=True)
                ],
                "notes": _hop_notes(catalog, hop),
            }
            for hop in hops
        ],
        "sql": join_sql(hops, dialect) if hops else "",
    }
