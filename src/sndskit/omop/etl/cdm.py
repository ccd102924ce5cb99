"""The OMOP CDM 5.4 tables the ETL writes: fields, types, keys (resources/omop/cdm54_fields.csv,
taken from OHDSI's ``OMOP_CDMv5.4_Field_Level.csv``), as Arrow schemas, SQL casts and DDL.

Identifiers (``*_id`` fields that are not concept ids) are 64-bit: the ETL's ids are 63-bit
hashes of the natural keys, which the DDL's ``integer`` cannot hold (documented deviation,
as in OHDSI's own ``bigint`` option). Concept ids stay 32-bit.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pyarrow as pa
from sqlglot import exp

CDM_VERSION = "5.4"


@dataclass(frozen=True)
class Field:
    table: str
    name: str
    required: bool
    datatype: str  # as in the CDM spec: integer, float, date, datetime, varchar(n)
    primary_key: bool
    fk_table: str
    fk_domain: str

    @property
    def is_identifier(self) -> bool:
        return (
            self.datatype == "integer"
            and self.name.endswith("_id")
            and not self.name.endswith("concept_id")
        )

    @property
    def sql_type(self) -> str:
        """Type of the column in the ETL's queries (same on DuckDB and Spark)."""
        if self.datatype == "integer":
            return "BIGINT" if self.is_identifier else "INT"
        return {"float": "DOUBLE", "date": "DATE", "datetime": "TIMESTAMP"}.get(
            self.datatype, "VARCHAR"
        )

    @property
    def arrow_type(self) -> pa.DataType:
        return {
            "BIGINT": pa.int64(),
            "INT": pa.int32(),
            "DOUBLE": pa.float64(),
            "DATE": pa.date32(),
            "TIMESTAMP": pa.timestamp("us"),
        }.get(self.sql_type, pa.string())

    @property
    def ddl_type(self) -> str:
        """Type in the official 5.4 DDL (PostgreSQL flavour), ids widened to BIGINT."""
        if self.datatype == "integer":
            return "BIGINT" if self.is_identifier else "INTEGER"
        if self.datatype == "float":
            return "NUMERIC"
        if self.datatype == "datetime":
            return "TIMESTAMP"
        if self.datatype == "varchar(max)":
            return "TEXT"
        return self.datatype.upper()


@cache
def cdm_fields() -> dict[str, tuple[Field, ...]]:
    """Table → its fields in the CDM's order."""
    path = resources.files("sndskit") / "resources" / "omop" / "cdm54_fields.csv"
    lines = [
        line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")
    ]
    out: dict[str, list[Field]] = {}
    for row in csv.DictReader(lines):
        out.setdefault(row["table"], []).append(
            Field(
                table=row["table"],
                name=row["field"],
                required=row["required"] == "Yes",
                datatype=row["datatype"],
                primary_key=row["primary_key"] == "Yes",
                fk_table=row["fk_table"].lower(),
                fk_domain=row["fk_domain"],
            )
        )
    return {table: tuple(fields) for table, fields in out.items()}


def cdm_tables() -> list[str]:
    return list(cdm_fields())


def arrow_schema(table: str) -> pa.Schema:
    return pa.schema(
        [pa.field(f.name, f.arrow_type, nullable=not f.required) for f in cdm_fields()[table]]
    )


def cdm_select(table: str, values: dict[str, exp.Expression | str | int | None]) -> exp.Select:
    """A SELECT listing every field of ``table`` in CDM order, each cast to its type; fields
    not in ``values`` are NULL. Unknown keys are an error (catches misspelt fields)."""
    fields = cdm_fields()[table]
    unknown = set(values) - {f.name for f in fields}
    if unknown:
        raise KeyError(f"{table} has no field {sorted(unknown)}")
    columns = []
    for field in fields:
        value = values.get(field.name)
        if value is None:
            expression: exp.Expression = exp.null()
        elif isinstance(value, exp.Expression):
            expression = value
        elif isinstance(value, int):
            expression = exp.Literal.number(value)
        else:
            expression = exp.column(value)
        columns.append(exp.alias_(exp.cast(expression, field.sql_type), field.name))
    return exp.select(*columns)


def ddl(table: str) -> exp.Create:
    """CREATE TABLE with the official 5.4 DDL types and NOT NULL on required fields."""
    columns = []
    for field in cdm_fields()[table]:
        constraints = (
            [exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())] if field.required else []
        )
        columns.append(
            exp.ColumnDef(
                this=exp.to_identifier(field.name),
                kind=exp.DataType.build(field.ddl_type),
                constraints=constraints,
            )
        )
    return exp.Create(this=exp.Schema(this=exp.to_table(table), expressions=columns), kind="TABLE")


@cache
def etl_concepts() -> dict:
    """Gender, visit, type and status concepts the ETL writes (resources/omop)."""
    import yaml

    path = resources.files("sndskit") / "resources" / "omop" / "etl_concepts.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))
