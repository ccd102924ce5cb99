"""The SNDS catalogue: tables, variables, keys, join paths and nomenclatures."""

from sndskit.catalog.catalog import Catalog, FieldHit
from sndskit.catalog.models import FieldInfo, ForeignKey, JoinHop, NomenclatureInfo, TableInfo
from sndskit.catalog.names import instantiate, resolve_table_name
from sndskit.catalog.store import get_catalog, get_nomenclature_values

__all__ = [
    "Catalog",
    "FieldHit",
    "FieldInfo",
    "ForeignKey",
    "JoinHop",
    "NomenclatureInfo",
    "TableInfo",
    "get_catalog",
    "get_nomenclature_values",
    "instantiate",
    "resolve_table_name",
]
