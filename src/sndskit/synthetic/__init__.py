"""Synthetic SNDS data at national-scale shape, with planted traps and ground truth.

>>> from sndskit.synthetic import build_config, generate
>>> config = build_config({"patients": 1000, "start_year": 2019, "end_year": 2022, "seed": 7})
>>> report = generate(config, "data/")                                     # doctest: +SKIP
>>> report.rows["ER_PRS_F"], report.trap_rows["dcir.regularisation"]       # doctest: +SKIP

Layout, traps, modules and their sources: ``docs/synthetic.md``.
"""

from sndskit.synthetic.definitions import finess_duplicate_list
from sndskit.synthetic.generator import GenerationReport, generate
from sndskit.synthetic.spec import (
    MODULE_IDS,
    GeneratorConfig,
    TrapRates,
    build_config,
    load_config_file,
)

__all__ = [
    "MODULE_IDS",
    "GenerationReport",
    "GeneratorConfig",
    "TrapRates",
    "build_config",
    "finess_duplicate_list",
    "generate",
    "load_config_file",
]
