"""SNDS → OMOP-CDM 5.4 on DuckDB and Spark, with its own quality checks (docs/omop_etl.md).

>>> from sndskit.omop.etl import EtlOptions, run_etl, prepare_code_map      # doctest: +SKIP
>>> code_map, _ = prepare_code_map(mappings, source_ids, vocab=con)          # doctest: +SKIP
>>> run_etl(open_data("snds/"), Path("cdm/"), code_map=code_map)            # doctest: +SKIP
"""

from sndskit.omop.etl.codemap import prepare_code_map
from sndskit.omop.etl.publish import write_quality
from sndskit.omop.etl.runner import CDM_TABLES, EtlOptions, export_duckdb, run_etl

__all__ = [
    "CDM_TABLES",
    "EtlOptions",
    "export_duckdb",
    "prepare_code_map",
    "run_etl",
    "write_quality",
]
