"""Traps of issue #11 (cohorts never silently wrong): each is planted, and its truth is the
generator's own account of it (``truth/``), checked here against the written data.

Expected values are computed in Python from the data files and the documented SNDS rules
(primer §2-§5), or read from the truth the generator wrote from its own state; never from
the cohort engine under test.
"""

from __future__ import annotations

import re
from datetime import date

import pyarrow.parquet as pq
import pytest

from sndskit.synthetic.definitions import module_definition
from sndskit.synthetic.spec import MODULE_IDS
from tests.synthetic.conftest import HIGH_RATES, KEYS, on_keys
from tests.synthetic.test_traps import assert_rate

MISSING = date(1600, 1, 1)
PERSON = "SELECT DISTINCT BEN_NIR_PSA, BEN_RNG_GEM, BEN_IDT_ANO FROM IR_BEN_R"


def _union(ds, prefix: str, suffix: str = "") -> str:
    """All tables PREFIX + year + SUFFIX (T_MCO19B, T_MCO20B; ER_PRS_F, ER_PRS_F_2012)."""
    pattern = re.compile(re.escape(prefix) + r"(\d{2}|_\d{4})?" + re.escape(suffix))
    names = [t for t in ds.tables if pattern.fullmatch(t)]
    assert names, prefix
    return "(" + " UNION ALL BY NAME ".join(f"SELECT * FROM {t}" for t in names) + ")"


# -- ALD as periods ----------------------------------------------------------------------
def test_every_ir_imb_r_row_is_in_the_ald_truth_with_its_motive_and_end(high_rates):
    ds = high_rates
    on = (
        "i.BEN_NIR_PSA = t.BEN_NIR_PSA AND i.BEN_RNG_GEM = t.BEN_RNG_GEM AND "
        "i.IMB_ALD_DTD = t.start_date AND i.IMB_ETM_NAT = t.IMB_ETM_NAT AND "
        "i.MED_MTF_COD = t.MED_MTF_COD AND i.IMB_ALD_NUM = t.IMB_ALD_NUM"
    )
    data, listed, matched, wrong = ds.q(
        "SELECT (SELECT count(*) FROM IR_IMB_R), (SELECT count(*) FROM truth_ald), count(*), "
        "count(*) FILTER (WHERE t.exonerating <> (i.IMB_ETM_NAT IN (41, 43, 45)) OR NOT ("
        "  (t.end_coding = 'null' AND i.IMB_ALD_DTF IS NULL) OR "
        "  (t.end_coding = '1600-01-01' AND i.IMB_ALD_DTF = DATE '1600-01-01') OR "
        "  (t.end_coding = 'date' AND i.IMB_ALD_DTF = t.end_date))) "
        f"FROM IR_IMB_R AS i JOIN truth_ald AS t ON {on}"
    )[0]
    assert data > 100 and data == listed == matched and wrong == 0


def _condition_of_code() -> dict[str, str]:
    """ICD-10 code → disease module, from the modules' ALD codes (disjoint lists)."""
    out: dict[str, str] = {}
    for m in MODULE_IDS:
        d = module_definition(m)
        for code, _ in d.ald.codes if d.ald and d.ald.codes else d.diagnosis:
            assert out.setdefault(code, m) == m
    return out


def test_ald_in_force_is_the_overlap_of_exonerating_periods(high_rates):
    """Recomputed in Python from IR_IMB_R with the documented rule: a registration is in
    force over [IMB_ALD_DTD, IMB_ALD_DTF], an end of 1600-01-01 or NULL is open, and only
    IMB_ETM_NAT 41, 43, 45 are exonerating ALD (HDH reference queries)."""
    ds = high_rates
    condition = _condition_of_code()
    rows = ds.q(
        "SELECT b.BEN_IDT_ANO, i.MED_MTF_COD, i.IMB_ALD_DTD, i.IMB_ALD_DTF, i.IMB_ETM_NAT "
        f"FROM IR_IMB_R AS i JOIN ({PERSON}) AS b USING (BEN_NIR_PSA, BEN_RNG_GEM)"
    )
    expected = set()
    for person, code, start, end, motive in rows:
        if motive not in (41, 43, 45) or code not in condition:
            continue
        for year in range(2019, 2022):
            if start <= date(year, 12, 31) and (end in (None, MISSING) or end >= date(year, 1, 1)):
                expected.add((person, condition[code], year))
    truth = set(ds.q("SELECT BEN_IDT_ANO, condition, year FROM truth_ald_in_force"))
    assert len(expected) > 100 and truth == expected


def test_ald_traps_are_planted(high_rates):
    ds = high_rates
    motives = {m for (m,) in ds.q("SELECT DISTINCT IMB_ETM_NAT FROM IR_IMB_R")}
    assert {41, 43, 45, 47, 21, 55, 11, 12, 13} <= motives
    ends = dict(ds.q("SELECT end_coding, count(*) FROM truth_ald GROUP BY 1"))
    assert min(ends.get(k, 0) for k in ("date", "1600-01-01", "null")) > 10
    opened_before = ds.one(
        "SELECT count(DISTINCT BEN_IDT_ANO) FROM truth_ald_in_force "
        "WHERE year = 2021 AND start_date < DATE '2019-01-01'"
    )
    closed_before = ds.one(
        "SELECT count(*) FROM truth_ald WHERE exonerating AND end_date < DATE '2019-01-01'"
    )
    assert opened_before > 20 and closed_before > 0
    # a person with a non-exonerating row only is not an ALD patient for that condition
    non_exonerating_only = ds.one(
        "SELECT count(*) FROM truth_ald AS a WHERE a.trap = 'ald_non_exonerating' AND "
        "a.condition IS NOT NULL AND NOT EXISTS (SELECT 1 FROM truth_ald AS b WHERE "
        "b.BEN_IDT_ANO = a.BEN_IDT_ANO AND b.condition = a.condition AND b.exonerating)"
    )
    assert non_exonerating_only > 5
    # the previous rule (start in the year, NOT IN (11, 12, 13)) is not the truth
    in_force = ds.one(
        "SELECT count(DISTINCT BEN_IDT_ANO) FROM truth_ald_in_force "
        "WHERE year = 2021 AND condition = 't2d'"
    )
    started = ds.one(
        "SELECT count(DISTINCT BEN_IDT_ANO) FROM truth_ald WHERE condition = 't2d' AND "
        "IMB_ETM_NAT NOT IN (11, 12, 13) AND year(start_date) = 2021"
    )
    assert in_force > 3 * started


def test_ald_trap_rates(high_rates):
    ds = high_rates
    module, other = ds.q(
        "SELECT count(*), count(*) FILTER (WHERE IMB_ETM_NAT <> 41) FROM truth_ald "
        "WHERE trap IS NULL AND condition IS NOT NULL"
    )[0]
    assert_rate(other, module, HIGH_RATES["ald_other_exonerating"], "ALD under motive 43/45")
    open_end, null = ds.q(
        "SELECT count(*), count(*) FILTER (WHERE end_coding = 'null') FROM truth_ald "
        "WHERE end_coding <> 'date'"
    )[0]
    assert_rate(null, open_end, HIGH_RATES["ald_end_null"], "open ALD ends left NULL")


# -- deaths ------------------------------------------------------------------------------
def test_every_death_is_recorded_where_the_truth_says(high_rates):
    ds = high_rates
    stays = _union(ds, "T_MCO", "B")
    deaths = {
        person: (day, ben, pmsi, ki)
        for person, day, ben, pmsi, ki in ds.q(
            "SELECT BEN_IDT_ANO, death_date, in_ir_ben_r, in_pmsi, in_ki_cci_r FROM truth_deaths"
        )
    }
    ir_ben_r = dict(
        ds.q(
            "SELECT BEN_IDT_ANO, max(BEN_DCD_DTE) FROM IR_BEN_R GROUP BY 1 HAVING min("
            "BEN_DCD_DTE) = max(BEN_DCD_DTE)"
        )
    )
    in_hospital = dict(
        ds.q(
            f"SELECT s.BEN_IDT_ANO, max(s.discharge_date) FROM truth_stays AS s JOIN {stays} AS b "
            "USING (ETA_NUM, RSA_NUM) WHERE b.SOR_MOD = '9' GROUP BY 1"
        )
    )
    certificates = dict(ds.q("SELECT BEN_IDT_ANO, BEN_DCD_DTE FROM KI_CCI_R"))
    assert len(deaths) > 30
    for person, (day, ben, pmsi, ki) in deaths.items():
        assert (ir_ben_r.get(person) == day) == ben, person
        assert (in_hospital.get(person) == day) == pmsi, person
        assert (certificates.get(person) == day) == ki, person
    recorded = {p for p, d in ir_ben_r.items() if d != MISSING}
    assert recorded == {p for p, v in deaths.items() if v[1]}
    assert set(certificates) == {p for p, v in deaths.items() if v[3]}
    assert set(in_hospital) == {p for p, v in deaths.items() if v[2]}


def test_death_traps_are_planted(high_rates):
    ds = high_rates
    sources = dict(ds.q("SELECT sources, count(*) FROM truth_deaths GROUP BY 1"))
    assert sources.get("PMSI", 0) > 3  # in-hospital death, nowhere else
    assert sources.get("KI_CCI_R", 0) > 3  # out-of-hospital death, only its certificate
    assert sources.get("IR_BEN_R+PMSI+KI_CCI_R", 0) > 0
    in_hospital, only = ds.q(
        "SELECT count(*) FILTER (WHERE in_pmsi), count(*) FILTER (WHERE trap = "
        "'death_only_in_pmsi') FROM truth_deaths"
    )[0]
    assert_rate(only, in_hospital, HIGH_RATES["death_only_in_pmsi"], "deaths only in PMSI")
    # censoring on BEN_DCD_DTE alone misses deaths
    naive = ds.one(
        "SELECT count(DISTINCT BEN_IDT_ANO) FROM IR_BEN_R WHERE BEN_DCD_DTE <> DATE '1600-01-01'"
    )
    assert naive < ds.one("SELECT count(*) FROM truth_deaths")


# -- procedures in two sources -------------------------------------------------------------
def test_every_true_act_is_in_its_sources_on_its_real_date(high_rates):
    ds = high_rates
    acts, stays = _union(ds, "T_MCO", "A"), _union(ds, "T_MCO", "C")
    pmsi = ds.q(
        "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM "
        f"{acts} AS a JOIN {stays} AS c USING (ETA_NUM, RSA_NUM) WHERE a.ETA_NUM = t.ETA_NUM "
        "AND a.RSA_NUM = t.RSA_NUM AND a.CDC_ACT = t.code AND a.ENT_DAT_DEL = t.ENT_DAT_DEL "
        "AND CAST(c.EXE_SOI_DTD AS DATE) + CAST(a.ENT_DAT_DEL AS INTEGER) = t.date)) "
        "FROM truth_procedures AS t WHERE t.sources LIKE 'PMSI%'"
    )[0]
    assert pmsi[0] > 100 and pmsi[0] == pmsi[1]
    # every act of a true stay is in the truth (copies of trap stays are not)
    true_acts = ds.one(
        f"SELECT count(*) FROM {acts} AS a JOIN truth_stays USING (ETA_NUM, RSA_NUM)"
    )
    assert true_acts == pmsi[0]
    dcir = ds.q(
        "SELECT count(*), count(c.CAM_PRS_IDE) FROM truth_procedures AS t "
        f"LEFT JOIN (ER_CAM_F AS c JOIN ER_PRS_F AS p USING ({KEYS})) "
        f"ON {on_keys('c', 't')} AND c.CAM_ORD_NUM = t.detail_ord AND c.CAM_PRS_IDE = t.code "
        "AND p.EXE_SOI_DTD = t.date WHERE t.sources LIKE '%DCIR'"
    )[0]
    assert dcir[0] > 100 and dcir[0] == dcir[1]
    town = ds.one(
        f"SELECT count(*) FROM ER_CAM_F AS c JOIN ER_PRS_F AS p USING ({KEYS}) "
        "WHERE p.DPN_QLF <> 71"
    )
    assert town == dcir[0]  # every ER_CAM_F row except information lines is a true act


def test_private_clinic_acts_are_in_both_sources_and_counted_once(high_rates):
    """The PMSI act dated at stay entry and its DCIR copy dated on the act day give two
    "distinct dates" for one act: the truth has it once, on entry + ENT_DAT_DEL."""
    ds = high_rates
    both, later = ds.q(
        "SELECT count(*), count(*) FILTER (WHERE ENT_DAT_DEL > 0) FROM truth_procedures "
        "WHERE sources = 'PMSI+DCIR'"
    )[0]
    assert both > 20 and later > 0
    rate = HIGH_RATES.get("private_act_in_dcir", 0.9)
    private = ds.one(
        "SELECT count(*) FROM truth_procedures AS t JOIN truth_stays AS s "
        "USING (ETA_NUM, RSA_NUM) WHERE s.sector = 'private' AND s.kind <> 'session' "
        "AND s.admission_date >= DATE '2019-01-01'"
    )
    assert_rate(both, private, rate, "private-clinic acts billed in DCIR too")
    acts, stays = _union(ds, "T_MCO", "A"), _union(ds, "T_MCO", "C")
    naive = ds.one(
        "SELECT count(*) FROM (SELECT DISTINCT b.BEN_IDT_ANO, p.EXE_SOI_DTD, c.CAM_PRS_IDE "
        f"FROM ER_CAM_F AS c JOIN ER_PRS_F AS p USING ({KEYS}) JOIN ({PERSON}) AS b "
        "USING (BEN_NIR_PSA, BEN_RNG_GEM) WHERE p.DPN_QLF <> 71 UNION "
        "SELECT DISTINCT s.BEN_IDT_ANO, c.EXE_SOI_DTD, a.CDC_ACT FROM "
        f"{acts} AS a JOIN {stays} AS c USING (ETA_NUM, RSA_NUM) "
        "JOIN truth_stays AS s USING (ETA_NUM, RSA_NUM))"
    )
    truth = ds.one(
        "SELECT count(*) FROM (SELECT DISTINCT BEN_IDT_ANO, date, code FROM truth_procedures)"
    )
    assert naive > truth


# -- twins in PMSI, return codes -----------------------------------------------------------
def test_twins_share_their_pmsi_pseudonym(archive_era):
    ds = archive_era
    stays = _union(ds, "T_MCO", "C")
    rows = ds.q(
        "SELECT t.BEN_IDT_ANO, c.NIR_ANO_17, c.RNG_NAI, c.RNG_BEN, "
        "  list(DISTINCT b.BEN_IDT_ANO) FROM truth_traps_pmsi AS t "
        f"JOIN {stays} AS c USING (ETA_NUM, RSA_NUM) JOIN IR_BEN_R AS b "
        "ON b.BEN_NIR_PSA = c.NIR_ANO_17 WHERE t.trap = 'twin_shared_pseudonym' GROUP BY ALL"
    )
    assert len(rows) >= 3
    ranks = {(r[2], r[3]) for r in rows}
    assert ranks == {(1, "001")}  # nothing in PMSI tells the twins apart
    for person, _, _, _, persons in rows:
        assert person in persons and len(persons) == 2
    listed = ds.one("SELECT count(*) FROM truth_traps_pmsi WHERE trap = 'twin_shared_pseudonym'")
    twin_stays = ds.one(
        "SELECT count(*) FROM truth_stays JOIN truth_persons USING (BEN_IDT_ANO) "
        "WHERE twin_of IS NOT NULL"
    )
    assert listed == twin_stays


RET = (
    "NIR_RET",
    "SEX_RET",
    "SEJ_RET",
    "FHO_RET",
    "PMS_RET",
    "NAI_RET",
    "COH_NAI_RET",
    "COH_SEX_RET",
)


def test_null_return_codes_are_listed(high_rates):
    ds = high_rates
    stays = _union(ds, "T_MCO", "C")
    rows = ds.q(
        "SELECT t.column_name, "
        + ", ".join(f'c."{name}" IS NULL' for name in RET)
        + f" FROM truth_traps_pmsi AS t JOIN {stays} AS c USING (ETA_NUM, RSA_NUM) "
        "WHERE t.trap = 'ret_null'"
    )
    assert len(rows) > 10
    for column, *nulls in rows:
        assert dict(zip(RET, nulls, strict=True)) == {name: name == column for name in RET}
    any_null = " OR ".join(f'"{name}" IS NULL' for name in RET)
    assert ds.one(f"SELECT count(*) FROM {stays} WHERE {any_null}") == len(rows)
    coherence = ds.q(
        f"SELECT t.column_name, count(*) FILTER (WHERE c.COH_NAI_RET OR c.COH_SEX_RET) "
        f"FROM truth_traps_pmsi AS t JOIN {stays} AS c USING (ETA_NUM, RSA_NUM) "
        "WHERE t.trap = 'ret_code' AND t.column_name LIKE 'COH%' GROUP BY 1"
    )
    assert {c for c, _ in coherence} == {"COH_NAI_RET", "COH_SEX_RET"}
    assert all(n > 0 for _, n in coherence)
    assert_rate(
        len(rows),
        ds.one("SELECT count(*) FROM truth_stays"),
        HIGH_RATES["ret_null"],
        "stays with a NULL return code",
    )


# -- biology codes typed integer -----------------------------------------------------------
def _biology_check(ds, code_sql: str) -> tuple[int, int, int]:
    tables = [t for t in ds.tables if t.startswith("ER_BIO_F")]
    found = 0
    for table in tables:
        prs = table.replace("ER_BIO_F", "ER_PRS_F")
        found += ds.one(
            f"SELECT count(*) FROM truth_biology AS t JOIN {table} AS d "
            f"ON {on_keys('d', 't')} AND d.BIO_ORD_NUM = t.detail_ord "
            f"JOIN {prs} AS p ON {on_keys('p', 'd')} "
            f"WHERE {code_sql} = t.code AND p.EXE_SOI_DTD = t.date AND t.table_name = '{table}'"
        )
    data = sum(
        ds.one(
            f"SELECT count(*) FROM {t} AS d JOIN {t.replace('ER_BIO_F', 'ER_PRS_F')} AS p "
            f"USING ({KEYS}) WHERE p.DPN_QLF <> 71"
        )
        for t in tables
    )
    return ds.one("SELECT count(*) FROM truth_biology"), found, data


def test_biology_truth_is_the_data(recent):
    listed, found, data = _biology_check(recent, "d.BIO_PRS_IDE")
    assert listed > 1000 and listed == found == data


def test_integer_nabm_codes_lose_their_zero_padding(archive_era):
    """The official schema types BIO_PRS_IDE integer: creatinine 0592 is stored 592, so a
    text comparison with the code list finds nothing; padding back to 4 digits does."""
    ds = archive_era
    types = {pq.read_schema(p).field("BIO_PRS_IDE").type for p in ds.dir.glob("ER_BIO_F*/*")}
    assert {str(t) for t in types} == {"int64"}
    listed, found, data = _biology_check(ds, "lpad(CAST(d.BIO_PRS_IDE AS VARCHAR), 4, '0')")
    assert listed > 1000 and listed == found == data
    padded = ds.one("SELECT count(*) FROM truth_biology WHERE code IN ('0592', '0552')")
    assert padded > 50
    _, as_text, _ = _biology_check(ds, "CAST(d.BIO_PRS_IDE AS VARCHAR)")
    assert as_text <= listed - padded  # every code below 1000 is missed


# -- archives ----------------------------------------------------------------------------
def test_archive_only_beneficiaries_are_in_ir_ben_r_arc(archive_era):
    ds = archive_era
    archived = set(ds.q("SELECT BEN_NIR_PSA, BEN_RNG_GEM FROM IR_BEN_R_ARC"))
    listed = set(
        ds.q("SELECT BEN_NIR_PSA, BEN_RNG_GEM FROM truth_traps_persons WHERE trap = 'archive_only'")
    )
    assert len(archived) > 10 and archived == listed
    assert not archived & set(ds.q("SELECT BEN_NIR_PSA, BEN_RNG_GEM FROM IR_BEN_R"))
    late = ds.one(
        "SELECT count(*) FROM IR_BEN_R_ARC AS a JOIN truth_persons AS t USING (BEN_IDT_ANO) "
        "WHERE t.death_date IS NULL OR t.death_date >= DATE '2013-01-01'"
    )
    assert late == 0
    with_care = ds.one(
        "SELECT count(DISTINCT (BEN_NIR_PSA, BEN_RNG_GEM)) FROM ("
        "SELECT BEN_NIR_PSA, BEN_RNG_GEM FROM ER_PRS_F_2011 UNION ALL "
        "SELECT BEN_NIR_PSA, BEN_RNG_GEM FROM ER_PRS_F_2012) JOIN IR_BEN_R_ARC "
        "USING (BEN_NIR_PSA, BEN_RNG_GEM)"
    )
    assert with_care > 5
    prs = _union(ds, "ER_PRS_F")
    orphans = ds.one(
        f"SELECT count(*) FROM {prs} AS p WHERE NOT EXISTS (SELECT 1 FROM (SELECT * FROM "
        "IR_BEN_R UNION ALL SELECT * FROM IR_BEN_R_ARC) AS b "
        "WHERE b.BEN_NIR_PSA = p.BEN_NIR_PSA AND b.BEN_RNG_GEM = p.BEN_RNG_GEM)"
    )
    assert orphans == 0  # IR_BEN_R read with IR_BEN_R_ARC covers every DCIR person


def _netted(ds, relations: list[str]) -> set[tuple]:
    """Dispensings kept by netting (sum by person, day, code > 0) within each relation."""
    kept: set[tuple] = set()
    for pha, prs in relations:
        kept |= set(
            ds.q(
                f"SELECT b.BEN_IDT_ANO, p.EXE_SOI_DTD, d.PHA_PRS_C13, sum(d.PHA_ACT_QSN) "
                f"FROM {pha} AS d JOIN {prs} AS p USING ({KEYS}) "
                f"JOIN ({PERSON} UNION SELECT BEN_NIR_PSA, BEN_RNG_GEM, BEN_IDT_ANO "
                "FROM IR_BEN_R_ARC) AS b USING (BEN_NIR_PSA, BEN_RNG_GEM) "
                "WHERE d.PHA_PRS_C13 IS NOT NULL GROUP BY ALL HAVING sum(d.PHA_ACT_QSN) > 0"
            )
        )
    return kept


def test_a_2012_dispensing_cancelled_in_a_2013_flux(archive_era):
    ds = archive_era
    roles = ds.q(
        "SELECT x.role, x.table_name, count(*), count(*) FILTER (WHERE (p.PRS_ACT_QTE < 0) = "
        "(x.role LIKE 'cancellation%')) FROM truth_traps_dcir AS x JOIN "
        f"{_union(ds, 'ER_PRS_F')} AS p ON {on_keys('p', 'x')} "
        "WHERE x.trap = 'archive_cancellation' GROUP BY ALL"
    )
    tables = {(role.split()[0], table) for role, table, _, _ in roles}
    assert tables == {("erroneous", "ER_PRS_F_2012"), ("cancellation", "ER_PRS_F")}
    assert all(n > 10 and ok == n for _, _, n, ok in roles)
    truth = set(
        ds.q(
            "SELECT BEN_IDT_ANO, date, code, sum(quantity) FROM truth_dispensings "
            "WHERE table_name LIKE 'ER_PHA_F%' AND code LIKE '3400%' GROUP BY ALL"
        )
    )
    generations = [
        (t, t.replace("ER_PHA_F", "ER_PRS_F")) for t in ds.tables if t.startswith("ER_PHA_F")
    ]
    per_generation = _netted(ds, generations)
    union = _netted(ds, [(_union(ds, "ER_PHA_F"), _union(ds, "ER_PRS_F"))])
    assert union == truth
    assert len(per_generation - truth) > 10  # netting within a generation keeps duplicates


# -- yearly extract layout -----------------------------------------------------------------
def test_yearly_extract_layout(yearly):
    ds = yearly
    dcir = [t for t in ds.tables if t.startswith("ER_")]
    assert "ER_PRS_F" not in dcir and {"ER_PRS_F_2019", "ER_PHA_F_2020", "ER_PRS_F_2021"} <= set(
        dcir
    )
    for table in (t for t in dcir if t.startswith("ER_PRS_F_")):
        years = {y for (y,) in ds.q(f"SELECT DISTINCT year(FLX_DIS_DTD) FROM {table}")}
        assert years <= {int(table[-4:])}, table
    truth = dict(ds.q("SELECT table_name, count(*) FROM truth_dispensings GROUP BY 1"))
    assert set(truth) <= set(dcir) and len(truth) >= 3
    for table, n in truth.items():
        column = "PHA_ORD_NUM" if table.startswith("ER_PHA") else "UCD_ORD_NUM"
        found = ds.one(
            f"SELECT count(*) FROM truth_dispensings AS t JOIN {table} AS d "
            f"ON {on_keys('d', 't')} AND d.{column} = t.detail_ord WHERE t.table_name = '{table}'"
        )
        assert found == n, table
    assert "archive_cancellation" not in {
        t for (t,) in ds.q("SELECT DISTINCT trap FROM truth_traps_dcir")
    }


@pytest.mark.parametrize("dataset_name", ["recent", "archive_era"])
def test_ir_ben_r_arc_is_written_only_for_periods_before_2013(dataset_name, request):
    ds = request.getfixturevalue(dataset_name)
    archive = "IR_BEN_R_ARC" in ds.tables
    assert archive == (dataset_name == "archive_era")


# -- issue #18: pack sizes, hospital drugs, C2S and residence ---------------------------------
def test_dispensings_carry_their_pack_size_and_days_of_supply(sample_dataset):
    """Units per box as the BDPM presentation label of that very box says (label from
    ``drugs_fallback.csv``, the BDPM extract the sample store uses; the label parser is
    doctested on real labels), days of supply as the drug's daily units say."""
    import csv
    from importlib import resources

    from sndskit.synthetic.boxes import pack_units
    from sndskit.synthetic.definitions import care_definition

    path = resources.files("sndskit") / "resources" / "synthetic" / "drugs_fallback.csv"
    with path.open(encoding="utf-8") as handle:
        labels = {r["cip13"]: r["label"] for r in csv.DictReader(handle)}
    per_day = {}
    for m in MODULE_IDS:
        per_day.update(
            {d.id: d.units_per_day / d.supply_factor for d in module_definition(m).drugs}
        )
    care = care_definition()
    for group in (care.acute_drugs, care.background_chronic):
        per_day.update({d.id: d.units_per_day / d.supply_factor for d in group})
    rows = sample_dataset.q(
        "SELECT DISTINCT drug, code, units_per_box, quantity, days_supply, units_per_day "
        "FROM truth_dispensings "
        "WHERE table_name LIKE 'ER_PHA_F%'"
    )
    assert len(rows) > 20
    for drug, code, units, quantity, days, units_per_day in rows:
        assert units == pack_units(labels[code]), (code, labels[code])
        assert units_per_day == pytest.approx(per_day[drug]), drug
        assert days == pytest.approx(quantity * units / per_day[drug]), drug
    ucd = sample_dataset.q(
        "SELECT count(*) FILTER (WHERE units_per_box IS NOT NULL OR days_supply IS NOT NULL "
        "OR units_per_day IS NOT NULL) "
        "FROM truth_dispensings WHERE table_name LIKE 'ER_UCD_F%'"
    )
    assert ucd == [(0,)]


@pytest.mark.parametrize("dataset_name", ["recent", "high_rates", "archive_era"])
def test_hospital_drugs_are_in_pmsi_and_private_ones_in_dcir_too(dataset_name, request):
    ds = request.getfixturevalue(dataset_name)
    drugs = ds.q(
        "SELECT sector, sources, pmsi_table, ETA_NUM, RSA_NUM, code, quantity, "
        "BEN_IDT_ANO, date FROM truth_hospital_drugs"
    )
    for sector, sources, table, eta, rsa, code, quantity, person, day in drugs:
        qty = "ADM_NBR" if sector == "public" else "QUA_COD"
        found = ds.one(
            f"SELECT count(*) FROM {table} WHERE ETA_NUM = ? AND RSA_NUM = ? "
            f"AND UCD_UCD_COD = ? AND {qty} = ?",
            [eta, rsa, code, quantity],
        )
        assert found == 1
        assert sources == ("PMSI" if sector == "public" else "PMSI+DCIR")
        if sector == "private":
            assert (
                ds.one(
                    "SELECT count(*) FROM truth_dispensings WHERE BEN_IDT_ANO = ? AND date = ? "
                    "AND code = ? AND table_name LIKE 'ER_UCD_F%'",
                    [person, day, code],
                )
                == 1
            )
    med = sum(
        ds.one(f"SELECT count(*) FROM {t} JOIN truth_stays USING (ETA_NUM, RSA_NUM)")
        for t in ds.tables
        if t.endswith("MED") or t.endswith("FH")
    )
    assert med == len(drugs)


def test_hospital_drugs_of_both_sectors_are_planted(recent, high_rates, archive_era):
    sectors = {}
    for ds in (recent, high_rates, archive_era):
        for sector, n in ds.q("SELECT sector, count(*) FROM truth_hospital_drugs GROUP BY 1"):
            sectors[sector] = sectors.get(sector, 0) + n
    assert sectors.get("public", 0) > 0 and sectors.get("private", 0) > 0, sectors


def test_c2s_and_residence_of_the_persons(recent):
    ds = recent
    share = ds.one("SELECT avg(CAST(c2s AS INTEGER)) FROM truth_persons WHERE NOT fictitious")
    assert 0.07 < share < 0.16  # about 11 % of the population (Fonds CSS 2022)
    young, old = ds.q(
        "SELECT avg(CAST(c2s AS INTEGER)) FILTER (WHERE year(birth_date) >= 2000), "
        "avg(CAST(c2s AS INTEGER)) FILTER (WHERE year(birth_date) < 1950) FROM truth_persons"
    )[0]
    assert young > 2 * old
    wrong = ds.one(
        f"SELECT count(*) FROM ER_PRS_F AS p JOIN ({PERSON}) AS b USING (BEN_NIR_PSA, "
        "BEN_RNG_GEM) JOIN truth_persons AS t USING (BEN_IDT_ANO) "
        "WHERE p.BEN_CMU_TOP <> CAST(t.c2s AS INTEGER) OR p.BEN_RES_DPT <> t.department"
    )
    assert wrong == 0
    if ds.real_store:  # IR_DPT_V gives each department's region
        regions = dict(ds.q("SELECT department, any_value(region) FROM truth_persons GROUP BY 1"))
        assert regions["075"] == "11" and regions["013"] == "93" and None not in regions.values()


def test_consultations_are_the_base_lines_without_fees_and_information_lines(high_rates):
    """Counting consultations (primer §3): natures of service of visits, without the flat
    fee (BSE_PRS_NAT = 0), majoration (CPL_MAJ_TOP >= 2) and information (DPN_QLF = 71)
    lines — exactly the true consultations, with their nature and executing specialty."""
    ds = high_rates
    natures = "(SELECT DISTINCT PRS_NAT_REF FROM truth_consultations)"
    counted = ds.one(
        f"SELECT count(*) FROM ER_PRS_F WHERE PRS_NAT_REF IN {natures} AND BSE_PRS_NAT <> 0 "
        "AND CPL_MAJ_TOP < 2 AND DPN_QLF <> 71"
    )
    listed, found = ds.q(
        "SELECT count(*), count(p.PRS_NAT_REF) FROM truth_consultations AS t LEFT JOIN "
        f"ER_PRS_F AS p ON {on_keys('p', 't')} AND p.PRS_NAT_REF = t.PRS_NAT_REF AND "
        "p.PSE_SPE_COD = t.PSE_SPE_COD AND p.EXE_SOI_DTD = t.date AND p.BSE_PRS_NAT <> 0 "
        "AND p.CPL_MAJ_TOP < 2"
    )[0]
    assert listed > 1000 and listed == found == counted
    naive = ds.one(f"SELECT count(*) FROM ER_PRS_F WHERE PRS_NAT_REF IN {natures}")
    assert naive > counted
    kinds = {k for (k,) in ds.q("SELECT DISTINCT kind FROM truth_consultations")}
    assert kinds == {"general practitioner", "specialist", "home visit"}


@pytest.mark.parametrize("dataset_name", ["recent", "high_rates", "archive_era"])
def test_rehabilitation_stays_follow_their_index_stay(dataset_name, request):
    """SSR stays (T_SSRaaB/C/D) of the truth: in the data under the person's pseudonym,
    with the morbidité principale and the condition as aetiology, after the MCO stay."""
    ds = request.getfixturevalue(dataset_name)
    rows = ds.q(
        "SELECT r.BEN_IDT_ANO, r.table_name, r.ETA_NUM, r.RHA_NUM, r.MOR_PRP, r.ETL_AFF, "
        "r.admission_date, r.discharge_date, s.discharge_date, s.DGN_PAL, c.icd10 "
        "FROM truth_rehabilitation_stays AS r JOIN truth_stays AS s "
        "ON s.ETA_NUM = r.after_ETA_NUM AND s.RSA_NUM = r.after_RSA_NUM "
        "JOIN truth_conditions AS c ON c.BEN_IDT_ANO = r.BEN_IDT_ANO AND c.condition = r.condition"
    )
    assert len(rows) == ds.one("SELECT count(*) FROM truth_rehabilitation_stays")
    for person, table, eta, rha, mmp, ae, start, end, mco_end, _, icd in rows:
        assert 0 <= (start - mco_end).days <= 2 and ae == icd
        found = ds.q(
            f"SELECT b.MOR_PRP, b.ETL_AFF, c.EXE_SOI_DTD, c.EXE_SOI_DTF, p.BEN_IDT_ANO "
            f"FROM {table} AS b JOIN {table[:-1]}C AS c USING (ETA_NUM, RHA_NUM) "
            "JOIN IR_BEN_R AS p ON p.BEN_NIR_PSA = c.NIR_ANO_17 "
            "WHERE b.ETA_NUM = ? AND b.RHA_NUM = ?",
            [eta, rha],
        )
        assert (mmp, ae, start, end) in {r[:4] for r in found} and person in {r[4] for r in found}
    written = sum(
        ds.one(f"SELECT count(*) FROM {t}")
        for t in ds.tables
        if t.startswith("T_SSR") and t.endswith("B")
    )
    assert written == len(rows)


def test_rehabilitation_stays_are_planted(recent, high_rates, archive_era):
    total = sum(
        ds.one("SELECT count(*) FROM truth_rehabilitation_stays")
        for ds in (recent, high_rates, archive_era)
    )
    assert total > 0


def test_outpatient_care_is_in_pmsi_ace_and_in_dcir_for_information(high_rates):
    """A public hospital's outpatient visit is in the PMSI (ACE) and in the DCIR as a line
    sent for information (DPN_QLF = 71): the truth has it once, with both locations."""
    ds = high_rates
    patients = _union(ds, "T_MCO", "CSTC")
    rows = ds.q(
        "SELECT t.kind, t.pmsi_table, t.ETA_NUM, t.SEQ_NUM, t.code, t.specialty, t.date, "
        "c.EXE_SOI_DTD, b.BEN_IDT_ANO, t.BEN_IDT_ANO, p.DPN_QLF, p.EXE_SOI_DTD "
        f"FROM truth_outpatient_care AS t JOIN {patients} AS c USING (ETA_NUM, SEQ_NUM) "
        "JOIN IR_BEN_R AS b ON b.BEN_NIR_PSA = c.NIR_ANO_17 "
        f"JOIN ER_PRS_F AS p ON {on_keys('p', 't')}"
    )
    listed = ds.one("SELECT count(*) FROM truth_outpatient_care")
    assert listed > 50 and len({(r[2], r[3], r[1]) for r in rows}) == listed
    assert {r[0] for r in rows} == {"consultation", "act", "biology"}
    mapped: dict[tuple, set] = {}
    for kind, table, eta, seq, code, spe, day, pmsi_day, person, true_person, dpn, dcir_day in rows:
        assert pmsi_day == day == dcir_day and dpn == 71
        mapped.setdefault((table, eta, seq, true_person), set()).add(person)
        if kind == "consultation":
            column, value = "EXE_SPE", f"{spe:02d}"
        else:
            column, value = ("CCAM_COD" if kind == "act" else "NABM_COD"), code
        assert (
            ds.one(
                f"SELECT count(*) FROM {table} WHERE ETA_NUM = ? AND SEQ_NUM = ? AND {column} = ?",
                [eta, seq, value],
            )
            == 1
        )
    # the PMSI pseudonym is the person's (twins: shared with the twin)
    assert all(key[3] in persons for key, persons in mapped.items())
    info = ds.one("SELECT count(*) FROM ER_PRS_F WHERE DPN_QLF = 71")
    assert info == listed == ds.one(f"SELECT count(*) FROM {patients}")
