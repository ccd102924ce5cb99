"""Cohorts: a YAML spec compiled to SNDS SQL, run on DuckDB or Spark, with masked counts."""

from sndskit.cohorts.compiler import CohortPlan
from sndskit.cohorts.describe import describe_cohort
from sndskit.cohorts.runner import CohortRun, plan_cohort, resolve_codelists, run_cohort
from sndskit.cohorts.spec import CohortSpec

__all__ = [
    "CohortPlan",
    "CohortRun",
    "CohortSpec",
    "describe_cohort",
    "plan_cohort",
    "resolve_codelists",
    "run_cohort",
]
