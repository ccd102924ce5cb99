"""Cohort engine on small hand-built data: every expectation is set by how the data is built."""

from __future__ import annotations

import json
from datetime import date

import pyarrow.parquet as pq
import pytest

from sndskit.codelists.export import import_codelist
from sndskit.codelists.model import save_codelist
from sndskit.cohorts.runner import plan_cohort, resolve_codelists, run_cohort
from sndskit.cohorts.spec import CohortSpec
from sndskit.engines.datasource import DataFolder
from sndskit.errors import SndskitError
from sndskit.specs import parse_spec
from tests.cohorts.builder import DRUG, OTHER_DRUG, T1D, SndsBuilder

SPEC = """
name: treated
period: {{start: 2019-01-01, end: 2020-12-31}}
entry:
  events: [{{source: drug_dispensing, codelist: drugs.json}}]
  occurrences: {{at_least: 3, distinct_dates: true, within_days: 365}}
  index: first
inclusion:
  - {{name: adult, age: {{min: 18}}}}
exclusion:
  - name: type 1 diabetes
    events: [{{source: hospital_diagnosis, codelist: t1d.json, roles: {roles}}}]
    window: {{start: -365, end: 0}}
snds: {{quality_filters: {preset}, flux_lag_months: {lag}}}
"""


def _codelists(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "drugs.csv").write_text(f"vocabulary,code\nCIP13,{DRUG}\nCIP7,{DRUG[5:12]}\n")
    (folder / "t1d.csv").write_text(f"vocabulary,code\nCIM10,{T1D}\n")
    save_codelist(import_codelist(folder / "drugs.csv"), folder / "drugs.json")
    save_codelist(import_codelist(folder / "t1d.csv"), folder / "t1d.json")


def three(builder, person, start=date(2019, 3, 1), **kwargs):
    for k in range(3):
        builder.dispensing(person, date(start.year, start.month + k, 10), **kwargs)


def run(
    tmp_path, builder, preset="cnam", roles="[DP, DR, DAS]", lag=6, engine="duckdb", **spec_changes
):
    _codelists(tmp_path)
    spec = parse_spec(SPEC.format(preset=preset, roles=roles, lag=lag), CohortSpec)
    if spec_changes:  # validated, as a user's YAML would be
        spec = CohortSpec.model_validate({**spec.model_dump(), **spec_changes})
    if not any(name.startswith("T_MCO") for name in builder.tables):
        builder.stay(999, date(2019, 6, 1), dp="Z000")  # a PMSI year exists; 999 is nobody
    data = DataFolder(builder.write(tmp_path / "data"))
    result = run_cohort(
        spec,
        data,
        tmp_path / "out",
        codelists=resolve_codelists(spec, tmp_path),
        threshold=0,
        engine=engine,
    )
    rows = pq.read_table(tmp_path / "out" / "cohort.parquet").to_pylist()
    return {r["person_id"]: r for r in rows}, result


def test_entry_rule_and_index(tmp_path, engine):
    b = SndsBuilder()
    for p in range(1, 6):
        b.person(p)
    three(b, 1)  # 3 dispensings within 365 days → in, index = first
    b.dispensing(2, date(2019, 3, 10))
    b.dispensing(2, date(2019, 4, 10))  # only 2 → out
    for day in (date(2019, 1, 5), date(2019, 8, 1), date(2020, 3, 1)):
        b.dispensing(
            3, day
        )  # 3 but over 420 days; the 2nd qualifies (2019-08-01 → 2020-03-01? no: 2 only)
    for day in (date(2019, 2, 1), date(2019, 2, 1), date(2019, 2, 2)):
        b.dispensing(4, day)  # 3 lines on 2 distinct dates → out
    three(b, 5, code=OTHER_DRUG)  # not in the code list → out
    cohort, result = run(tmp_path, b, engine=engine)
    assert set(cohort) == {"P000001"}
    assert cohort["P000001"]["index_date"] == date(2019, 3, 10)
    steps = {r["step"]: r["persons"] for r in result.attrition}
    assert steps["with an entry event in the period"] == 4  # persons 1-4
    assert steps["entry rule met: ≥ 3 events on distinct dates within 365 days, index = first"] == 1


def test_age_and_person_identity_across_pseudonyms(tmp_path, engine):
    b = SndsBuilder()
    b.person(1, pseudonyms=2)
    b.dispensing(1, date(2019, 3, 10), pseudonym=0)
    b.dispensing(1, date(2019, 4, 10), pseudonym=1)  # same person, second pseudonym
    b.dispensing(1, date(2019, 5, 10), pseudonym=0)
    b.person(2, birth_year=2005)  # 14 at index → not adult
    three(b, 2)
    cohort, _ = run(tmp_path, b, engine=engine)
    assert set(cohort) == {"P000001"}
    assert cohort["P000001"]["age_at_index"] == 59


@pytest.mark.parametrize(
    ("roles", "placement", "excluded"),
    [
        ("[DP]", "dp", True),
        ("[DP]", "das", False),
        ("[DAS]", "das", True),
        ("[DAS]", "um", True),
        ("[DAS]", "dp", False),
        ("[DP, DR, DAS]", "outside", False),
    ],
)
def test_exclusion_by_diagnosis_roles_and_window(tmp_path, roles, placement, excluded, engine):
    b = SndsBuilder()
    b.person(1)
    three(b, 1)
    day = date(2018, 1, 1) if placement == "outside" else date(2019, 1, 15)  # window: 365 days
    b.stay(
        1,
        day,
        dp=T1D if placement in ("dp", "outside") else "Z000",
        das=[T1D] if placement == "das" else [],
        um_dp=T1D if placement == "um" else None,
    )
    cohort, _ = run(tmp_path, b, roles=roles, engine=engine)
    assert ("P000001" not in cohort) is excluded


TRAPS = {
    # name: (how to plant, which preset keeps the trap)
    "information_line": lambda b: b.dispensing(1, date(2019, 5, 10), dpn_qlf=71),
    "taa_hospital": lambda b: b.dispensing(1, date(2019, 5, 10), ete_ind_taa=1),
    "no_nature": lambda b: b.dispensing(1, date(2019, 5, 10), bse_prs_nat=0),
    "regularised": lambda b: (
        b.dispensing(1, date(2019, 5, 10)),
        b.dispensing(1, date(2019, 5, 10), quantity=-1),
    ),
}


@pytest.mark.parametrize("trap", sorted(TRAPS))
def test_each_dcir_filter_removes_its_trap_and_none_keeps_it(tmp_path, trap, engine):
    """Person 1 has 2 clean dispensings and 1 trap line: in only if the trap counts."""
    b = SndsBuilder()
    b.person(1)
    b.dispensing(1, date(2019, 3, 10))
    b.dispensing(1, date(2019, 4, 10))
    TRAPS[trap](b)
    filtered, _ = run(tmp_path / "cnam", b, preset="cnam", engine=engine)
    raw, _ = run(tmp_path / "none", b, preset="none", engine=engine)
    assert "P000001" not in filtered
    assert "P000001" in raw


STAY_TRAPS = {
    "duplicate_finess": {"eta_num": "750100042"},
    "error_ghm": {"ghm": "90Z00Z"},
    "session": {"sej_typ": "B"},
    "bad_return_code": {"nir_ret": "1"},
}


@pytest.mark.parametrize("trap", sorted(STAY_TRAPS))
def test_each_pmsi_filter_removes_its_trap_and_none_keeps_it(tmp_path, trap, engine):
    """A T1D stay that is a trap must not exclude the person under cnam; under none it does."""
    b = SndsBuilder()
    b.person(1)
    three(b, 1)
    b.stay(1, date(2019, 1, 15), dp=T1D, **STAY_TRAPS[trap])
    filtered, _ = run(tmp_path / "cnam", b, preset="cnam", engine=engine)
    raw, _ = run(tmp_path / "none", b, preset="none", engine=engine)
    assert "P000001" in filtered
    assert "P000001" not in raw


def test_fictitious_nir_is_dropped(tmp_path, engine):
    b = SndsBuilder()
    b.person(1, cdi="05")
    three(b, 1)
    b.person(2, cdi="03")  # provisional: kept
    three(b, 2)
    cohort, _ = run(tmp_path, b, engine=engine)
    assert set(cohort) == {"P000002"}


def test_flux_lag_bounds_what_is_read(tmp_path, engine):
    """Care of Dec 2020 processed in Sep 2021: 9 months late. A lag of 6 months (read up to
    flux month end + lag after the window) misses it; 12 catches it."""
    b = SndsBuilder()
    b.person(1)
    b.dispensing(1, date(2020, 10, 10))
    b.dispensing(1, date(2020, 11, 10))
    b.dispensing(1, date(2020, 12, 10), flux=date(2022, 9, 1))
    short, _ = run(tmp_path / "short", b, lag=6, engine=engine)
    long, _ = run(tmp_path / "long", b, lag=12, engine=engine)
    assert "P000001" not in short and "P000001" in long


def test_cip7_only_lines_count(tmp_path, engine):
    b = SndsBuilder()
    b.person(1)
    three(b, 1, cip7_only=True)
    recent, _ = run(tmp_path / "recent", b, engine=engine)  # 2019: CIP13 expected
    assert "P000001" not in recent
    older, _ = run(tmp_path / "older", b, engine=engine, snds={"cip7_until_year": 2019})
    assert "P000001" in older


def test_outputs_manifest_and_masking(tmp_path):
    b = SndsBuilder()
    for p in range(1, 16):
        b.person(p, sex=1 + p % 2)
        three(b, p)
    b.stay(999, date(2019, 6, 1), dp="Z000")
    _codelists(tmp_path)
    spec = parse_spec(SPEC.format(preset="cnam", roles="[DP]", lag=6), CohortSpec)
    data = DataFolder(b.write(tmp_path / "data"))
    run_cohort(spec, data, tmp_path / "out", codelists=resolve_codelists(spec, tmp_path))
    attrition = (tmp_path / "out" / "attrition.csv").read_text().splitlines()
    assert attrition[0] == "step,persons,records"
    assert any(line.endswith(",15,15") for line in attrition)
    counts = (tmp_path / "out" / "counts.csv").read_text().splitlines()[1:]
    assert counts and all(
        line.split(",")[-1] in {"1-10", "masked"} or int(line.split(",")[-1]) > 10
        for line in counts
    )  # 8 men, 7 women: every cell is small
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["engine"] == "duckdb" and manifest["spec_hash"]
    assert "ER_PHA_F" in manifest["inputs"]["tables"]
    assert set(manifest["inputs"]["tables"]["ER_PHA_F"]) >= {"PHA_PRS_C13", "PHA_ACT_QSN"}


def test_missing_tables_and_columns_are_named(tmp_path):
    b = SndsBuilder()
    b.person(1)
    three(b, 1)
    b.stay(999, date(2019, 6, 1), dp="Z000")
    b.tables.pop("ER_PHA_F")
    _codelists(tmp_path)
    spec = parse_spec(SPEC.format(preset="cnam", roles="[DP]", lag=6), CohortSpec)
    data = DataFolder(b.write(tmp_path / "data"))
    with pytest.raises(SndskitError, match="ER_PHA_F"):
        plan_cohort(spec, resolve_codelists(spec, tmp_path), data)


def test_hostile_codes_stay_literals(tmp_path):
    b = SndsBuilder()
    b.person(1)
    three(b, 1)
    b.stay(999, date(2019, 6, 1), dp="Z000")
    _codelists(tmp_path)
    (tmp_path / "drugs.csv").write_text("vocabulary,code\nCIP13,X' OR '1'='1\n")
    save_codelist(import_codelist(tmp_path / "drugs.csv"), tmp_path / "drugs.json")
    spec = parse_spec(SPEC.format(preset="cnam", roles="[DP]", lag=6), CohortSpec)
    data = DataFolder(b.write(tmp_path / "data"))
    result = run_cohort(
        spec, data, tmp_path / "out", codelists=resolve_codelists(spec, tmp_path), threshold=0
    )
    assert result.persons == 0


@pytest.mark.spark
def test_duckdb_and_spark_return_identical_cohorts(tmp_path):
    b = SndsBuilder()
    for p in range(1, 40):
        b.person(
            p, birth_year=1940 + p, sex=1 + p % 2, death=date(2020, 6, 1) if p % 7 == 0 else None
        )
        start = date(2019, 1 + p % 9, 1)
        for k in range(2 + p % 3):
            b.dispensing(
                p,
                date(start.year, start.month + k, 5 + p % 20),
                dpn_qlf=71 if p % 11 == 0 else None,
            )
        if p % 5 == 0:
            b.stay(
                p,
                date(2019, 2, 1 + p % 20),
                dp=T1D if p % 10 == 0 else "Z000",
                das=[T1D] if p % 15 == 0 else [],
            )
    duck, duck_run = run(
        tmp_path / "duckdb", b, engine="duckdb", exit={"at": "end_of_exposure", "gap_days": 30}
    )
    spark, spark_run = run(
        tmp_path / "spark", b, engine="spark", exit={"at": "end_of_exposure", "gap_days": 30}
    )
    assert duck == spark and len(duck) > 5
    assert duck_run.attrition == spark_run.attrition


def test_boolean_return_codes(tmp_path, engine):
    """The schema types *_RET as boolean: true marks an error, false a valid stay."""
    b = SndsBuilder()
    b.person(1)
    three(b, 1)
    b.stay(1, date(2019, 1, 15), dp=T1D)
    for row in b.tables["T_MCO19C"]:
        for column in ("NIR_RET", "NAI_RET", "SEX_RET", "SEJ_RET", "FHO_RET", "PMS_RET", "DAT_RET"):
            row[column] = False
    valid, _ = run(tmp_path / "valid", b, engine=engine)
    assert "P000001" not in valid  # the valid T1D stay excludes the person
    b.tables["T_MCO19C"][0]["NIR_RET"] = True
    flagged, _ = run(tmp_path / "flagged", b, engine=engine)
    assert "P000001" in flagged  # a stay with a return-code error is ignored


def test_dcir_archive_tables_are_read_for_flux_years_before_2013(tmp_path, engine):
    """Two dispensings processed in 2012 (archive tables) and one in 2013: three in all."""
    b = SndsBuilder()
    b.person(1)
    b.dispensing(1, date(2012, 10, 10), archive=True)
    b.dispensing(1, date(2012, 11, 10), archive=True)
    b.dispensing(1, date(2013, 1, 10))
    b.stay(999, date(2013, 6, 1), dp="Z000")
    cohort, _ = run(
        tmp_path, b, engine=engine, period={"start": date(2012, 1, 1), "end": date(2013, 12, 31)}
    )
    assert "P000001" in cohort
    assert cohort["P000001"]["index_date"] == date(2012, 10, 10)


def _sources_data(tmp_path):
    b = SndsBuilder()
    for p in range(1, 4):
        b.person(p)
        three(b, p)
    b.person(4)
    b.dispensing(4, date(2019, 3, 10))
    b.stay(2, date(2019, 1, 15), dp=T1D)
    _codelists(tmp_path)
    return b.write(tmp_path / "data")


def test_tables_in_a_duckdb_database_give_the_same_cohort(tmp_path):
    import duckdb

    from sndskit.engines.datasource import open_data

    folder = _sources_data(tmp_path)
    database = tmp_path / "snds.duckdb"
    con = duckdb.connect(str(database))
    for file in folder.glob("*.parquet"):  # lower-case physical names, matched anyway
        con.execute(f"CREATE TABLE {file.stem.lower()} AS SELECT * FROM read_parquet('{file}')")
    con.close()
    spec = parse_spec(SPEC.format(preset="cnam", roles="[DP]", lag=6), CohortSpec)
    codelists = resolve_codelists(spec, tmp_path)
    from_folder = run_cohort(
        spec, DataFolder(folder), tmp_path / "a", codelists=codelists, threshold=0
    )
    from_db = run_cohort(
        spec, open_data(database), tmp_path / "b", codelists=codelists, threshold=0
    )
    assert from_db.persons == from_folder.persons == 2  # persons 1 and 3 (2 has T1D, 4 one line)
    assert from_db.attrition == from_folder.attrition


@pytest.mark.spark
def test_tables_registered_in_a_spark_catalog(tmp_path, spark_session):
    from sndskit.engines.spark_engine import SparkCatalogData

    folder = _sources_data(tmp_path)
    spark_session.sql("CREATE DATABASE IF NOT EXISTS snds_test")
    for file in folder.glob("*.parquet"):
        frame = spark_session.read.parquet(str(file))
        frame.write.mode("overwrite").saveAsTable(f"snds_test.{file.stem.lower()}")
    spec = parse_spec(SPEC.format(preset="cnam", roles="[DP]", lag=6), CohortSpec)
    result = run_cohort(
        spec,
        SparkCatalogData(spark_session, "snds_test"),
        tmp_path / "out",
        codelists=resolve_codelists(spec, tmp_path),
        engine="spark",
        threshold=0,
    )
    assert result.persons == 2
    assert result.manifest["data"]["path"] == "spark-catalog/snds_test"
