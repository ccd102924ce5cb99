"""The truth files agree with the data: true dispensings, stays, ALD and deaths are in the
tables, reachable from the person's BEN_IDT_ANO, and drug rhythms follow the module files."""

from __future__ import annotations

import re

import duckdb

from sndskit.synthetic.definitions import module_definition
from tests.synthetic.conftest import KEYS, on_keys

# persons' identities as the data tells them (IR_BEN_R is the only link)
PERSON = "SELECT DISTINCT BEN_NIR_PSA, BEN_RNG_GEM, BEN_IDT_ANO FROM IR_BEN_R"


def test_every_true_dispensing_is_in_the_data_under_the_right_person(recent):
    n_truth = recent.one("SELECT count(*) FROM truth_dispensings WHERE table_name = 'ER_PHA_F'")
    found = recent.one(
        f"SELECT count(*) FROM truth_dispensings AS t "
        f"JOIN ER_PHA_F AS d ON d.PHA_ORD_NUM = t.detail_ord AND {on_keys('d', 't')} "
        f"JOIN ER_PRS_F AS p ON {on_keys('p', 'd')} "
        f"JOIN ({PERSON}) AS b ON b.BEN_NIR_PSA = p.BEN_NIR_PSA AND b.BEN_RNG_GEM = p.BEN_RNG_GEM "
        "WHERE t.table_name = 'ER_PHA_F' AND b.BEN_IDT_ANO = t.BEN_IDT_ANO "
        "AND coalesce(d.PHA_PRS_C13, '') = t.code AND d.PHA_ACT_QSN = t.quantity "
        "AND p.EXE_SOI_DTD = t.date"
    )
    assert n_truth > 1000 and found == n_truth


def test_true_dispensings_are_positive_and_traps_are_not_truth(recent):
    """Extra rows (duplicates, cancellations, information lines …) are never true events;
    true rows may carry a damaging property (late flux, missing date, CIP7 only)."""
    assert recent.one("SELECT count(*) FROM truth_dispensings WHERE quantity <= 0") == 0
    overlap = recent.q(
        "SELECT DISTINCT x.trap FROM truth_dispensings AS t JOIN truth_traps_dcir AS x USING "
        f"({KEYS})"
    )
    assert {r[0] for r in overlap} <= {"late_flux", "missing_date", "cip7_only"}


def _module_boxes(ds, drug_id: str) -> list[str]:
    return ds.manifest["codes"]["drugs"][drug_id]["cip13"]


def test_diabetics_treated_by_metformin_have_monthly_or_quarterly_dispensings(recent):
    """Every true diabetic on metformin for a whole year has its dispensings in ER_PHA_F at
    the rhythm the dispensing rule imposes: a box covers one month (28-30 units) or three
    (84-100 units, R5123-2 CSP); metformin is taken twice a day (t2d.yaml)."""
    t2d = module_definition("t2d")
    metformin = next(d for d in t2d.drugs if d.id == "metformin")
    boxes = _module_boxes(recent, "metformin")
    labels = (
        dict(
            duckdb.connect(str(recent.store), read_only=True)
            .execute(
                "SELECT code, label FROM concepts WHERE vocabulary = 'CIP13' AND code IN "
                "(SELECT unnest(?::VARCHAR[]))",
                [boxes],
            )
            .fetchall()
        )
        if recent.real_store
        else {}
    )
    rows = recent.q(
        "WITH exposed AS (SELECT e.BEN_IDT_ANO, e.code FROM truth_exposures AS e "
        "  JOIN truth_conditions AS c ON c.BEN_IDT_ANO = e.BEN_IDT_ANO AND c.condition = 't2d' "
        "  JOIN truth_persons AS p ON p.BEN_IDT_ANO = e.BEN_IDT_ANO "
        "  WHERE e.drug = 'metformin' AND e.start_date < DATE '2018-01-01' "
        "  AND coalesce(e.end_date, DATE '9999-01-01') > DATE '2018-12-31' "
        "  AND coalesce(p.death_date, DATE '9999-01-01') > DATE '2018-12-31'), "
        "disp AS (SELECT b.BEN_IDT_ANO, p.EXE_SOI_DTD AS day, sum(d.PHA_ACT_QSN) AS q "
        f"  FROM ER_PHA_F AS d JOIN ER_PRS_F AS p USING ({KEYS}) "
        f"  JOIN ({PERSON}) AS b USING (BEN_NIR_PSA, BEN_RNG_GEM) "
        "  WHERE d.PHA_PRS_C13 IN (SELECT unnest(?::VARCHAR[])) AND year(p.EXE_SOI_DTD) = 2018 "
        "  GROUP BY ALL HAVING sum(d.PHA_ACT_QSN) > 0) "
        "SELECT e.BEN_IDT_ANO, e.code, count(d.day) "
        "FROM exposed AS e LEFT JOIN disp AS d USING (BEN_IDT_ANO) GROUP BY ALL",
        [boxes],
    )
    assert len(rows) >= 20, "too few diabetics exposed all year to test the rhythm"
    for person, box, count in rows:
        assert count >= 2, f"{person}: {count} metformin dispensings of {box} in a year"
    if not labels:
        return
    # 12 monthly or 4 quarterly dispensings a year for a perfectly adherent patient;
    # accept down to half of that (late refills, gaps) and a few early refills
    units = {b: int(re.findall(r"(\d+) comprimé", labels[b])[-1]) for b in boxes}
    for person, box, count in rows:
        days_per_box = units[box] / metformin.units_per_day
        if days_per_box <= 36:  # one month per dispensing (two boxes when they are small)
            assert 6 <= count <= 16, f"{person}: {count} dispensings of {box}"
        else:  # one three-month box per dispensing
            assert 75 <= days_per_box <= 105, f"{box}: {days_per_box} days per box"
            assert 2 <= count <= 6, f"{person}: {count} dispensings of {box}"


def test_every_true_stay_is_in_pmsi_under_the_right_person(recent):
    n = recent.one("SELECT count(*) FROM truth_stays")
    found = 0
    for yy in range(16, 20):
        found += recent.one(
            f"SELECT count(*) FROM truth_stays AS t JOIN T_MCO{yy}B AS b USING (ETA_NUM, RSA_NUM) "
            f"JOIN T_MCO{yy}C AS c USING (ETA_NUM, RSA_NUM) "
            "JOIN (SELECT DISTINCT BEN_NIR_PSA, BEN_IDT_ANO FROM IR_BEN_R) AS p "
            "ON p.BEN_NIR_PSA = c.NIR_ANO_17 AND p.BEN_IDT_ANO = t.BEN_IDT_ANO "
            f"WHERE t.table_name = 'T_MCO{yy}B' AND b.DGN_PAL = t.DGN_PAL "
            "AND CAST(c.EXE_SOI_DTD AS DATE) = t.admission_date"
        )
    assert n > 100 and found == n


def test_incident_acute_events_have_their_index_stay(recent):
    """Each acute coronary syndrome or stroke starting in the period has a stay at onset
    with a diagnosis of the event (ICD-10 I20-I24, I60-I64) as DP."""
    missing = recent.q(
        "SELECT c.BEN_IDT_ANO, c.condition FROM truth_conditions AS c "
        "WHERE c.condition IN ('acs', 'stroke') AND NOT c.prevalent_at_start "
        "AND c.onset_date <= DATE '2019-11-30' AND NOT EXISTS ("
        "  SELECT 1 FROM truth_stays AS s WHERE s.BEN_IDT_ANO = c.BEN_IDT_ANO "
        "  AND s.admission_date = c.onset_date AND s.kind = 'index' AND ("
        "    (c.condition = 'acs' AND s.DGN_PAL SIMILAR TO 'I2[0-4].*') OR "
        "    (c.condition = 'stroke' AND s.DGN_PAL SIMILAR TO 'I6[0-4].*')))"
    )
    incident = recent.one(
        "SELECT count(*) FROM truth_conditions WHERE condition IN ('acs', 'stroke') "
        "AND NOT prevalent_at_start"
    )
    assert incident > 5 and missing == []


def test_ald_registrations_of_the_truth_are_in_ir_imb_r(recent):
    rows = recent.q(
        "SELECT c.condition, c.ald_number, count(*), count(i.IMB_ALD_NUM) "
        "FROM truth_conditions AS c LEFT JOIN ("
        f"  SELECT b.BEN_IDT_ANO, i.* FROM IR_IMB_R AS i JOIN ({PERSON}) AS b "
        "  USING (BEN_NIR_PSA, BEN_RNG_GEM) WHERE i.IMB_ETM_NAT IN (41, 43, 45)) AS i "
        "ON i.BEN_IDT_ANO = c.BEN_IDT_ANO AND i.IMB_ALD_NUM = c.ald_number "
        "AND i.IMB_ALD_DTD = c.ald_start "
        "WHERE c.ald_number IS NOT NULL AND c.ald_start <= DATE '2019-12-31' GROUP BY ALL"
    )
    # ALD numbers of the conditions (IR_ALD_V, décret 2011-77)
    expected = {
        "t2d": 8,
        "acs": 13,
        "stroke": 1,
        "heart_failure": 5,
        "copd": 14,
        "breast_cancer": 30,
        "depression": 23,
    }
    assert rows
    for condition, number, total, found in rows:
        assert number in (expected[condition], 99)  # 99: off-list or polypathology
        assert found == total, condition


def test_deaths_agree_everywhere(recent):
    # living persons carry 1600-01-01, the dead their death date where IR_BEN_R records it
    # (truth/deaths says where each death is recorded: tests in test_cohort_traps.py)
    wrong = recent.one(
        "SELECT count(*) FROM truth_persons AS t JOIN IR_BEN_R AS b USING (BEN_IDT_ANO) "
        "LEFT JOIN truth_deaths AS d USING (BEN_IDT_ANO) "
        "WHERE b.BEN_DCD_DTE <> CASE WHEN d.in_ir_ben_r THEN t.death_date "
        "ELSE DATE '1600-01-01' END"
    )
    assert wrong == 0
    dead = recent.one("SELECT count(*) FROM truth_persons WHERE death_date IS NOT NULL")
    assert recent.one("SELECT count(*) FROM truth_deaths") == dead
    certified = recent.one("SELECT count(*) FROM truth_deaths WHERE in_ki_cci_r")
    certificates = recent.one(
        "SELECT count(*) FROM KI_CCI_R AS k JOIN truth_persons AS t USING (BEN_IDT_ANO) "
        "WHERE k.BEN_DCD_DTE = t.death_date AND k.DCD_CIM_COD = t.death_cause"
    )
    assert dead > 10 and certificates == certified == recent.one("SELECT count(*) FROM KI_CCI_R")
    # no care after death
    after = recent.one(
        f"SELECT count(*) FROM ER_PRS_F AS p JOIN ({PERSON}) AS b USING (BEN_NIR_PSA, BEN_RNG_GEM) "
        "JOIN truth_persons AS t USING (BEN_IDT_ANO) WHERE p.EXE_SOI_DTD > t.death_date"
    )
    assert after == 0


def test_in_hospital_deaths_end_the_stay_with_sor_mod_9(recent):
    rows = recent.q(
        "SELECT s.died, b.SOR_MOD, count(*) FROM truth_stays AS s JOIN truth_persons AS t "
        "USING (BEN_IDT_ANO) JOIN (SELECT * FROM T_MCO16B UNION ALL SELECT * FROM T_MCO17B "
        "UNION ALL SELECT * FROM T_MCO18B UNION ALL SELECT * FROM T_MCO19B) AS b "
        "USING (ETA_NUM, RSA_NUM) WHERE s.died GROUP BY ALL"
    )
    assert rows and all(sor == "9" for _, sor, _ in rows)
    mismatched = recent.one(
        "SELECT count(*) FROM truth_stays AS s JOIN truth_persons AS t USING (BEN_IDT_ANO) "
        "WHERE s.died AND t.death_date <> s.discharge_date"
    )
    assert mismatched == 0


def test_truth_conditions_use_their_module_codes(recent):
    for condition, icd in recent.q("SELECT DISTINCT condition, icd10 FROM truth_conditions"):
        codes = {c for c, _ in module_definition(condition).diagnosis}
        assert icd in codes, (condition, icd)


def test_manifest_records_the_run(recent):
    m = recent.manifest
    assert m["seed"] == 11 and m["parameters"]["patients"] == 2000
    assert m["sndskit_version"]
    assert m["rows"]["ER_PRS_F"] == recent.one("SELECT count(*) FROM ER_PRS_F")
    assert m["truth_rows"]["persons"] == 2000
    assert m["layout"]["tables"] == "DIR/<TABLE>/part-NNNNN.parquet"
    assert set(m["modules"]) == {
        "t2d",
        "acs",
        "stroke",
        "heart_failure",
        "copd",
        "breast_cancer",
        "depression",
    }
    assert all(m["modules"][k]["sources"] for k in m["modules"])
