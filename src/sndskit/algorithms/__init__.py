"""Algorithm catalogue: SNDS targeting algorithms that are at the same time documentation,
code and validation (BOAS-style folders; see docs/algorithms.md)."""

from sndskit.algorithms.boas import export_boas, render_boas
from sndskit.algorithms.contribute import new_algorithm, record_version
from sndskit.algorithms.folder import (
    Algorithm,
    catalogue_root,
    get_algorithm,
    list_algorithms,
    load_algorithm,
)
from sndskit.algorithms.lint import Problem, lint_algorithm
from sndskit.algorithms.model import AlgorithmMeta
from sndskit.algorithms.run import AlgorithmRun, run_algorithm
from sndskit.algorithms.validate import ValidationReport, measure, validate_persons

__all__ = [
    "Algorithm",
    "AlgorithmMeta",
    "AlgorithmRun",
    "Problem",
    "ValidationReport",
    "catalogue_root",
    "export_boas",
    "get_algorithm",
    "lint_algorithm",
    "list_algorithms",
    "load_algorithm",
    "measure",
    "new_algorithm",
    "record_version",
    "render_boas",
    "run_algorithm",
    "validate_persons",
]
