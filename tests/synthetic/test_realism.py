"""Medical and administrative coherence, checked against published orders of magnitude
(INSEE, DREES, ATIH, Santé publique France) and SNDS rules — never against the generator's
own parameters."""

from __future__ import annotations

from tests.synthetic.conftest import KEYS

LAG = "datediff('month', date_trunc('month', EXE_SOI_DTD), FLX_DIS_DTD)"
REAL = "SELECT * FROM truth_persons WHERE NOT fictitious"


def test_99_percent_of_care_arrives_within_6_months_of_flux(recent):
    """CNAM: 99 % of care is in the flux within 6 months; completeness within 27 months."""
    claims = recent.q(
        f"SELECT count(*), count(*) FILTER (WHERE lag <= 6), max(lag), min(lag) FROM ("
        f"SELECT DISTINCT {KEYS.replace(', PRS_ORD_NUM', '')}, {LAG} AS lag FROM ER_PRS_F "
        "WHERE PRS_ACT_QTE >= 0 AND DPN_QLF = 0)"
    )[0]
    total, within, longest, shortest = claims
    assert 0.985 <= within / total <= 0.995
    assert shortest >= 1 and longest <= 27
    assert recent.one("SELECT count(*) FROM ER_PRS_F WHERE day(FLX_DIS_DTD) <> 1") == 0
    assert (
        recent.one(
            "SELECT count(*) FROM ER_PRS_F WHERE FLX_TRT_DTD < EXE_SOI_DTD "
            "OR FLX_TRT_DTD > FLX_DIS_DTD"
        )
        == 0
    )


def test_age_and_sex_structure_is_the_french_one(recent):
    """INSEE 1 January 2020: 51.6 % women, 20.5 % aged 65 or more, 24 % under 20."""
    n, women, old, young = recent.q(
        f"SELECT count(*), avg((sex = 2)::INT), avg((birth_date <= DATE '1950-12-31')::INT), "
        f"avg((birth_date > DATE '1995-12-31')::INT) FROM ({REAL})"
    )[0]
    assert n > 1900
    assert abs(women - 0.516) < 0.04
    assert abs(old - 0.205) < 0.04  # 65+ on 1 January 2016 (the start of this dataset)
    assert abs(young - 0.24) < 0.04


def test_crude_death_rate_is_about_one_percent_a_year(recent):
    """INSEE: ≈ 600,000 deaths a year for 67 M inhabitants (9-10 ‰)."""
    n = recent.one(f"SELECT count(*) FROM ({REAL})")
    deaths = recent.one(f"SELECT count(*) FROM ({REAL}) WHERE death_date IS NOT NULL")
    rate = deaths / n / 4
    assert 0.005 <= rate <= 0.015


def test_care_volumes_have_the_order_of_magnitude_of_france(recent):
    """DREES/CNAM: about 4-5 GP contacts per person and year; ATIH: 15-20 % of the
    population has at least one MCO stay or session in a year."""
    n = recent.one(f"SELECT count(*) FROM ({REAL})")
    gp = recent.one(
        "SELECT count(*) FROM ER_PRS_F WHERE PRS_NAT_REF IN (1110, 1111, 1211) "
        "AND BSE_PRS_NAT <> 0 AND CPL_MAJ_TOP = 0 AND DPN_QLF = 0 AND year(EXE_SOI_DTD) = 2018"
    )
    assert 2.5 <= gp / n <= 6.5
    hospitalised = recent.one(
        "SELECT count(DISTINCT BEN_IDT_ANO) FROM truth_stays WHERE year(discharge_date) = 2018"
    )
    assert 0.08 <= hospitalised / n <= 0.25
    lines = recent.one("SELECT count(*) FROM ER_PRS_F WHERE year(EXE_SOI_DTD) = 2018")
    assert 10 <= lines / n <= 40  # DCIR lines per person-year


def test_treated_diabetes_prevalence_and_sex_ratio(recent):
    """SPF: pharmacologically treated diabetes ≈ 5-6 % of the population, more in men."""
    n_m, n_f = recent.q(
        f"SELECT count(*) FILTER (WHERE sex = 1), count(*) FILTER (WHERE sex = 2) FROM ({REAL})"
    )[0]
    d_m, d_f = recent.q(
        "SELECT count(*) FILTER (WHERE p.sex = 1), count(*) FILTER (WHERE p.sex = 2) "
        "FROM truth_conditions AS c JOIN truth_persons AS p USING (BEN_IDT_ANO) "
        "WHERE c.condition = 't2d' AND c.prevalent_at_start"
    )[0]
    prevalence = (d_m + d_f) / (n_m + n_f)
    assert 0.03 <= prevalence <= 0.08
    assert d_m / n_m > d_f / n_f


def test_diabetics_have_hba1c_monitoring(recent):
    """HAS: HbA1c 2 to 4 times a year for a treated type 2 diabetic (NABM 1577)."""
    per_year = recent.one(
        "WITH diabetics AS (SELECT c.BEN_IDT_ANO FROM truth_conditions AS c JOIN truth_persons "
        "AS p "
        "  USING (BEN_IDT_ANO) WHERE c.condition = 't2d' AND c.onset_date < DATE '2018-01-01' "
        "  AND coalesce(p.death_date, DATE '9999-01-01') > DATE '2018-12-31'), "
        "tests AS (SELECT b.BEN_IDT_ANO, count(*) AS n FROM ER_BIO_F AS d "
        f"  JOIN ER_PRS_F AS p USING ({KEYS}) JOIN IR_BEN_R AS b USING (BEN_NIR_PSA, BEN_RNG_GEM) "
        "  WHERE d.BIO_PRS_IDE = '1577' AND p.DPN_QLF = 0 AND year(p.EXE_SOI_DTD) = 2018 GROUP "
        "BY 1) "
        "SELECT avg(coalesce(n, 0)) FROM diabetics LEFT JOIN tests USING (BEN_IDT_ANO)"
    )
    assert 2.0 <= per_year <= 4.5


def test_hospital_stays_are_grouped_in_the_organ_s_major_category(recent):
    """The GHM's CMD (first 2 characters) is the organ system of the DP: circulatory 05,
    nervous 01, respiratory 04, endocrine 10, breast 09, mental 19, sessions 28."""
    expected = {
        "acs": {"05"},
        "heart_failure": {"05"},
        "stroke": {"01"},
        "copd": {"04"},
        "t2d": {"10"},
        "breast_cancer": {"09", "28"},
        "depression": {"19"},
    }
    years = " UNION ALL ".join(f"SELECT * FROM T_MCO{y}B" for y in range(16, 20))
    rows = recent.q(
        f"SELECT s.condition, left(b.GRG_GHM, 2), count(*) FROM truth_stays AS s "
        f"JOIN ({years}) AS b USING (ETA_NUM, RSA_NUM) WHERE s.condition <> 'background' GROUP "
        "BY ALL"
    )
    assert len({r[0] for r in rows}) >= 5
    for condition, cmd, _ in rows:
        assert cmd in expected[condition], (condition, cmd)


def test_drugs_of_each_condition_belong_to_its_therapeutic_class(recent):
    """ATC classes: A10 diabetes, B01/C (cardiovascular), R03 obstructive airway disease,
    L02/L01 breast cancer, N06A antidepressants."""
    prefixes = {
        "t2d": ("A10",),
        "acs": ("B01", "C"),
        "stroke": ("B01", "C"),
        "heart_failure": ("C",),
        "copd": ("R03",),
        "breast_cancer": ("L01", "L02"),
        "depression": ("N06A",),
    }
    rows = recent.q(
        "SELECT DISTINCT condition, atc FROM truth_exposures WHERE condition <> 'background'"
    )
    assert len({r[0] for r in rows}) == 7
    for condition, atc in rows:
        assert atc.startswith(prefixes[condition]), (condition, atc)


def test_identifiers_have_their_snds_shape(recent):
    assert recent.one("SELECT count(*) FROM IR_BEN_R WHERE length(BEN_NIR_PSA) <> 17") == 0
    years = " UNION ALL ".join(f"SELECT ETA_NUM, RSA_NUM FROM T_MCO{y}B" for y in range(16, 20))
    bad = recent.one(
        f"SELECT count(*) FROM ({years}) WHERE NOT regexp_full_match(ETA_NUM, "
        f"'[0-9][0-9AB][0-9]{{7}}') "
        "OR NOT regexp_full_match(RSA_NUM, '[0-9]{10}')"
    )
    assert bad == 0
    # BEN_AMA_COD: age in years from 2 years, months coded 1000+ before (IR_AMA_V)
    assert (
        recent.one(
            "SELECT count(*) FROM ER_PRS_F WHERE (BEN_AMA_COD BETWEEN 131 AND 999) OR "
            "BEN_AMA_COD > 1023"
        )
        == 0
    )
