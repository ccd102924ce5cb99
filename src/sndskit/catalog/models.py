"""Typed model of the SNDS catalogue: tables, fields, keys and nomenclature links."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldInfo(_Frozen):
    """One variable of an SNDS table.

    ``type`` is the type declared by the schema; ``storage_type`` is the type sndskit
    reads it as. They differ for identifiers typed as numbers by the schema (CIP13, UCD,
    FINESS, NABM, LPP codes), which must stay strings to keep their leading zeros.
    """

    name: str
    type: str
    storage_type: str
    description: str = ""
    length: str = ""
    nomenclature: str | None = None
    nomenclature_column: str | None = None
    date_created: str = ""
    date_deleted: str = ""
    observation: str = ""
    management_rule: str = ""
    enum: tuple[str, ...] | None = None
    allows_empty: bool = False
    type_note: str = ""


class ForeignKey(_Frozen):
    fields: tuple[str, ...]
    reference_table: str
    reference_fields: tuple[str, ...]
    note: str = Field(default="", description="why sndskit corrected the declared key")

    @model_validator(mode="after")
    def _same_arity(self) -> ForeignKey:
        if len(self.fields) != len(self.reference_fields):
            raise ValueError(
                f"foreign key to {self.reference_table}: {len(self.fields)} fields "
                f"but {len(self.reference_fields)} referenced fields"
            )
        return self


class TableInfo(_Frozen):
    name: str
    title: str
    product: str
    scope: str = ""
    observation: str = ""
    date_created: str = ""
    date_deleted: str = ""
    fields: tuple[FieldInfo, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    source_file: str = ""

    @model_validator(mode="after")
    def _keys_exist(self) -> TableInfo:
        names = {f.name for f in self.fields}
        missing = [c for c in self.primary_key if c not in names]
        for fk in self.foreign_keys:
            missing += [c for c in fk.fields if c not in names]
        if missing:
            raise ValueError(f"key columns not among the table's fields: {', '.join(missing)}")
        return self

    def field(self, name: str) -> FieldInfo | None:
        upper = name.upper()
        return next((f for f in self.fields if f.name.upper() == upper), None)


class NomenclatureInfo(_Frozen):
    """A reference table (``;``-separated CSV with a JSON schema beside it)."""

    name: str
    title: str = ""
    folder: str
    columns: tuple[str, ...]
    code_column: str | None = None
    label_column: str | None = None
    primary_key: tuple[str, ...] = ()
    rows: int | None = Field(default=None, description="None when the CSV is not public")
    source_file: str = ""


class JoinHop(_Frozen):
    """One step of a join path: ``left.left_columns = right.right_columns``."""

    left: str
    right: str
    left_columns: tuple[str, ...]
    right_columns: tuple[str, ...]
    note: str = ""
