"""Cohort engine: generated SQL vs an expert's hand-written SQL (same engine, same data),
and DuckDB vs Spark local, on synthetic SNDS.

The cohort: adults with ≥ 3 dispensings of a non-insulin antidiabetic on distinct dates
within 365 days, first qualifying date in 2020-2022 (``t2d_treated`` example), with the
cnam quality filters. The hand-written SQL is what an SNDS expert writes for it; both must
return the same persons and index dates. Run:
``.venv/bin/python benchmarks/bench_cohort.py --patients 1000000 [--spark]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from importlib import resources
from pathlib import Path

from sndskit.cohorts.runner import plan_cohort, resolve_codelists
from sndskit.cohorts.spec import CohortSpec
from sndskit.config import store_path
from sndskit.engines import open_engine
from sndskit.engines.datasource import DataFolder
from sndskit.engines.duckdb_engine import DuckDBEngine
from sndskit.specs import load_spec

EXPERT_SQL = """
WITH ids AS (
  SELECT BEN_NIR_PSA, BEN_RNG_GEM, min(BEN_IDT_ANO) AS person_id,
         min(CAST(BEN_NAI_ANN AS INT)) AS birth_year
  FROM IR_BEN_R WHERE BEN_CDI_NIR IN ('00', '03', '04') OR BEN_CDI_NIR IS NULL
  GROUP BY BEN_NIR_PSA, BEN_RNG_GEM
),
lines AS (
  SELECT i.person_id, i.birth_year, CAST(p.EXE_SOI_DTD AS DATE) AS day, f.PHA_PRS_C13 AS code
  FROM ER_PHA_F f
  JOIN ER_PRS_F p USING (FLX_DIS_DTD, FLX_TRT_DTD, FLX_EMT_TYP, FLX_EMT_NUM, FLX_EMT_ORD,
                         ORG_CLE_NUM, DCT_ORD_NUM, PRS_ORD_NUM, REM_TYP_AFF)
  JOIN ids i ON i.BEN_NIR_PSA = p.BEN_NIR_PSA AND i.BEN_RNG_GEM = p.BEN_RNG_GEM
  WHERE f.PHA_PRS_C13 IN (SELECT unnest($codes))
    AND p.FLX_DIS_DTD BETWEEN DATE '2020-01-01' AND DATE '2024-06-30'
    AND p.EXE_SOI_DTD BETWEEN DATE '2020-01-01' AND DATE '2023-12-31'
    AND coalesce(p.DPN_QLF, 0) <> 71 AND coalesce(p.PRS_DPN_QLP, 0) <> 71
    AND coalesce(p.BSE_PRS_NAT, 1) <> 0
    AND NOT EXISTS (SELECT 1 FROM ER_ETE_F e WHERE e.ETE_IND_TAA = 1
        AND e.FLX_DIS_DTD = p.FLX_DIS_DTD AND e.FLX_TRT_DTD = p.FLX_TRT_DTD
        AND e.FLX_EMT_TYP = p.FLX_EMT_TYP AND e.FLX_EMT_NUM = p.FLX_EMT_NUM
        AND e.FLX_EMT_ORD = p.FLX_EMT_ORD AND e.ORG_CLE_NUM = p.ORG_CLE_NUM
        AND e.DCT_ORD_NUM = p.DCT_ORD_NUM AND e.PRS_ORD_NUM = p.PRS_ORD_NUM
        AND e.REM_TYP_AFF = p.REM_TYP_AFF)
  GROUP BY 1, 2, 3, 4 HAVING sum(f.PHA_ACT_QSN) > 0
),
days AS (SELECT DISTINCT person_id, birth_year, day FROM lines),
seq AS (SELECT *, lead(day, 2) OVER (PARTITION BY person_id ORDER BY day) AS third FROM days)
SELECT person_id, min(day) AS index_date FROM seq
WHERE third IS NOT NULL AND third - day <= 365
  AND day BETWEEN DATE '2020-01-01' AND DATE '2022-12-31'
GROUP BY person_id HAVING year(min(day)) - min(birth_year) >= 18
"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_plan(engine, plan, attrition: bool = False) -> tuple[float, set]:
    """The plan as the runner runs it (tables and views as the plan chooses); with
    ``attrition``, the person/row counts of the attrition steps too."""
    started = time.perf_counter()

    def count(step, *_):
        if attrition and step.attrition:
            engine.count(step.name)

    engine.run(plan.steps, on_step=count)
    rows = engine.rows("cohort", ["person_id", "index_date"])
    engine.close()
    return time.perf_counter() - started, set(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--data", type=Path, default=None, help="reuse a generated folder")
    parser.add_argument("--spark", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--all-tables", action="store_true", help="materialise every step (the old plan)"
    )
    args = parser.parse_args()
    examples = Path(str(resources.files("sndskit") / "resources" / "cohorts" / "examples"))
    spec = load_spec(examples / "t2d_treated.yaml", CohortSpec)
    codelists = resolve_codelists(spec, examples)
    data_dir = args.data
    if data_dir is None:
        from sndskit.synthetic.generator import generate
        from sndskit.synthetic.spec import GeneratorConfig

        data_dir = Path(tempfile.mkdtemp(prefix="sndskit-cohort-bench-")) / "data"
        t0 = time.perf_counter()
        generate(
            GeneratorConfig(patients=args.patients, start_year=2019, end_year=2022, seed=7),
            data_dir,
            store=store_path(),
        )
        print(
            f"generated {args.patients:,} persons in {time.perf_counter() - t0:.1f} s: {data_dir}"
        )
    data = DataFolder(data_dir)

    schema = DuckDBEngine(data).schema()
    plan = plan_cohort(spec, codelists, data, schema=schema)
    if args.all_tables:  # the previous behaviour: every step materialised as a table
        for step in plan.steps:
            step.keep = "table"
    codes = {"codes": codelists["t2d_drugs"].codes("CIP13")}
    ours_times, counted_times, expert_times = [], [], []
    for _ in range(args.repeat):  # alternate, fresh connections, keep the best of each
        seconds_ours, cohort_ours = run_plan(open_engine("duckdb", data), plan)
        ours_times.append(seconds_ours)
        expert = DuckDBEngine(data)
        started = time.perf_counter()
        cohort_expert = set(expert.con.execute(EXPERT_SQL, codes).fetchall())
        expert_times.append(time.perf_counter() - started)
        counted_times.append(run_plan(open_engine("duckdb", data), plan, attrition=True)[0])
        assert cohort_ours == cohort_expert, (len(cohort_ours), len(cohort_expert))
    seconds_ours, seconds_expert = min(ours_times), min(expert_times)
    seconds_counted = min(counted_times)
    kept = sum(step.keep == "table" for step in plan.steps)
    print(f"cohort: {len(cohort_ours):,} persons (same persons and index dates in both)")
    print(f"plan: {len(plan.steps)} steps, {kept} materialised as tables")
    print(
        f"DuckDB generated plan: best {seconds_ours:.2f} s; expert SQL: best "
        f"{seconds_expert:.2f} s; ratio {seconds_ours / seconds_expert:.2f}; with the "
        f"attrition counts {seconds_counted:.2f} s, ratio {seconds_counted / seconds_expert:.2f} "
        f"(best of {args.repeat}, alternated)"
    )
    print(f"peak RSS so far: {peak_rss_mb():.0f} MiB")
    if args.spark:
        from sndskit.engines.spark_engine import SparkEngine

        spark = SparkEngine(data)
        seconds_spark, cohort_spark = run_plan(spark, plan)
        assert {p for p, _ in cohort_spark} == {p for p, _ in cohort_ours}
        ratio = seconds_ours / seconds_spark
        print(f"Spark local[2] generated plan: {seconds_spark:.2f} s (DuckDB/Spark {ratio:.2f})")


if __name__ == "__main__":
    main()
