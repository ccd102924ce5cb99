"""Read the SNDS schema snapshot (Table Schema JSON) and the nomenclature index.

The schema snapshot has known quirks that this module absorbs, each documented where it
is handled: foreign keys whose ``fields`` is a string instead of a list, lower-case column
names in some keys, an ``enum`` that contains ``""``, and identifiers (CIP13, UCD, FINESS…)
typed as numbers.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sndskit.catalog.models import FieldInfo, ForeignKey, NomenclatureInfo, TableInfo
from sndskit.errors import SndskitError

REQUIRED_TABLE_KEYS = ("name", "title", "produit", "fields")
REQUIRED_FIELD_KEYS = ("name", "type")


@cache
def key_overrides() -> dict[tuple[str, str], dict[str, Any]]:
    """Documented corrections to declared foreign keys, by (table, referenced table)."""
    path = resources.files("sndskit") / "resources" / "catalog" / "key_overrides.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {(e["table"], e["reference_table"]): e for e in entries}


def _apply_override(fk: ForeignKey, table: str) -> ForeignKey:
    override = key_overrides().get((table, fk.reference_table))
    if override is None:
        return fk
    pairs = dict(zip(fk.fields, fk.reference_fields, strict=True))
    kept = [c for c in override["columns"] if c in pairs]
    return fk.model_copy(
        update={
            "fields": tuple(kept),
            "reference_fields": tuple(pairs[c] for c in kept),
            "note": " ".join(override["reason"].split()),
        }
    )


@cache
def identifier_columns() -> dict[str, str]:
    """Columns typed as numbers by the schema that sndskit reads as strings, with why."""
    path = resources.files("sndskit") / "resources" / "catalog" / "identifier_columns.csv"
    with path.open(encoding="utf-8") as handle:
        return {row["column"]: row["reason"] for row in csv.DictReader(handle)}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SndskitError("file not found", file=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise SndskitError(f"not valid JSON ({exc})", file=path, line=line) from None
    if not isinstance(data, dict):
        raise SndskitError("expected a JSON object at the top level", file=path)
    return data


def _as_list(value: Any) -> list[str]:
    # Quirk: single-column foreign keys are written as a bare string in the snapshot.
    return [value] if isinstance(value, str) else list(value)


def _field(raw: dict[str, Any], path: Path) -> FieldInfo:
    for key in REQUIRED_FIELD_KEYS:
        if key not in raw:
            raise SndskitError("missing key in a field", file=path, field=key)
    nomenclature = (raw.get("nomenclature") or "-").strip()
    nom_table = nom_column = None
    if nomenclature not in ("-", ""):
        nom_table, _, nom_column = nomenclature.partition(":")
        nom_column = nom_column or None
    enum = (raw.get("constraints") or {}).get("enum")
    declared = raw["type"]
    note = identifier_columns().get(raw["name"].upper(), "")
    return FieldInfo(
        name=raw["name"],
        type=declared,
        storage_type="string" if note else declared,
        type_note=note,
        description=(raw.get("description") or "").strip(),
        length=str(raw.get("length") or ""),
        nomenclature=nom_table,
        nomenclature_column=nom_column,
        date_created=str(raw.get("dateCreated") or ""),
        date_deleted=str(raw.get("dateDeleted") or ""),
        observation=(raw.get("observation") or "").strip(),
        management_rule=(raw.get("regle_gestion") or "").strip(),
        # Quirk: T_MCOaaB.SEJ_COD_CONF lists "" among its values; keep it as "may be empty".
        enum=tuple(str(v) for v in enum if v != "") if enum else None,
        allows_empty=bool(enum) and "" in enum,
    )


def _match_columns(columns: list[str], fields: dict[str, str], table: str, path: Path) -> tuple:
    # Quirk: some keys use lower-case column names (CT_IDE_AAAA_GN); match them exactly
    # as the table spells its own columns.
    out = []
    for column in columns:
        actual = fields.get(column.upper())
        if actual is None:
            raise SndskitError(
                f"key column '{column}' is not a field of {table}", file=path, field="foreignKeys"
            )
        out.append(actual)
    return tuple(out)


def parse_table_schema(data: dict[str, Any], path: Path) -> TableInfo:
    """Build a :class:`TableInfo` from one Table Schema document; errors name the file."""
    for key in REQUIRED_TABLE_KEYS:
        if key not in data:
            raise SndskitError("missing key", file=path, field=key, allowed=REQUIRED_TABLE_KEYS)
    if not isinstance(data["fields"], list) or not data["fields"]:
        raise SndskitError("expected a non-empty list of fields", file=path, field="fields")
    fields = [_field(raw, path) for raw in data["fields"]]
    by_upper = {f.name.upper(): f.name for f in fields}
    foreign_keys = []
    for fk in data.get("foreignKeys") or []:
        try:
            reference = fk["reference"]
            declared = ForeignKey(
                fields=_match_columns(_as_list(fk["fields"]), by_upper, data["name"], path),
                reference_table=reference["resource"],
                reference_fields=tuple(_as_list(reference["fields"])),
            )
            foreign_keys.append(_apply_override(declared, data["name"]))
        except (KeyError, TypeError) as exc:
            raise SndskitError(
                f"malformed foreign key ({exc})", file=path, field="foreignKeys"
            ) from None
        except ValidationError as exc:
            raise SndskitError(_first_error(exc), file=path, field="foreignKeys") from None
    history = data.get("history") or {}
    try:
        return TableInfo(
            name=data["name"],
            title=(data.get("title") or "").strip(),
            product=data["produit"],
            scope=(data.get("champ") or "").strip(),
            observation=(data.get("observation") or "").strip(),
            date_created=str(history.get("dateCreated") or ""),
            date_deleted=str(history.get("dateDeleted") or ""),
            fields=tuple(fields),
            primary_key=_match_columns(
                _as_list(data.get("primaryKey") or []), by_upper, data["name"], path
            ),
            foreign_keys=tuple(foreign_keys),
            source_file=str(path),
        )
    except ValidationError as exc:
        raise SndskitError(_first_error(exc), file=path) from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}".lstrip(": ")


def iter_schema_files(schema_root: Path) -> Iterator[Path]:
    if not schema_root.is_dir():
        raise SndskitError("schema folder not found", file=schema_root)
    yield from sorted(schema_root.rglob("*.json"))


def load_tables(schema_root: Path) -> list[TableInfo]:
    """Load every table schema under ``schema_root``, checking the references between them.

    >>> from sndskit.config import builtin_sample_dir
    >>> tables = load_tables(builtin_sample_dir() / "schema-snds" / "schemas")
    >>> "ER_PRS_F" in {t.name for t in tables}
    True
    """
    tables: dict[str, TableInfo] = {}
    for path in iter_schema_files(schema_root):
        table = parse_table_schema(_read_json(path), path)
        if table.name in tables:
            raise SndskitError(
                f"table {table.name} is defined twice (also in {tables[table.name].source_file})",
                file=path,
                field="name",
            )
        tables[table.name] = table
    if not tables:
        raise SndskitError("no table schema (*.json) found", file=schema_root)
    for table in tables.values():
        for fk in table.foreign_keys:
            target = tables.get(fk.reference_table)
            if target is None:
                raise SndskitError(
                    f"foreign key references unknown table {fk.reference_table}",
                    file=table.source_file,
                    field="foreignKeys",
                    allowed=sorted(tables),
                )
            _match_columns(
                list(fk.reference_fields),
                {f.name.upper(): f.name for f in target.fields},
                target.name,
                Path(table.source_file),
            )
    return list(tables.values())


def nomenclature_file(schema_json: Path) -> Path:
    """The CSV beside a reference table's JSON schema: ``NAME.csv``, or ``NAME.sample.csv``
    in the built-in sample (hand-written miniatures, named so they are never mistaken for
    the real tables)."""
    real, sample = schema_json.with_suffix(".csv"), schema_json.with_suffix(".sample.csv")
    return sample if sample.exists() and not real.exists() else real


def load_nomenclature_index(nomenclature_root: Path) -> list[NomenclatureInfo]:
    """List the reference tables: one JSON schema each, with or without its CSV."""
    out = []
    if not nomenclature_root.is_dir():
        return out
    for path in sorted(nomenclature_root.rglob("*.json")):
        data = _read_json(path)
        fields = data.get("fields")
        if not isinstance(fields, list) or not all(
            isinstance(f, dict) and "name" in f for f in fields
        ):
            raise SndskitError("expected a list of fields with names", file=path, field="fields")
        roles = {f.get("role"): f["name"] for f in fields if f.get("role")}
        csv_path = nomenclature_file(path)
        out.append(
            NomenclatureInfo(
                name=data.get("name") or path.stem,
                title=(data.get("title") or "").strip(),
                folder=path.parent.name,
                columns=tuple(f["name"] for f in fields),
                code_column=roles.get("code"),
                label_column=roles.get("label"),
                primary_key=tuple(_as_list(data.get("primaryKey") or [])),
                source_file=str(csv_path if csv_path.exists() else path),
            )
        )
    return out
