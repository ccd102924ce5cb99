"""Planted traps: every trap row listed in the truth is in the data with its property, every
data row with a trap property is listed, and each trap appears at its configured rate."""

from __future__ import annotations

import math

import pytest

from sndskit.synthetic.definitions import finess_duplicate_list
from tests.synthetic.conftest import HIGH_RATES, KEYS, on_keys

CONSULTATIONS = "(1110, 1111, 1112, 1211)"
PHARMACY = "(3311, 3313)"
FICTITIOUS = "('01', '05', '06', '08', '09', '11', '12', '13', '14', '15')"
INVALID_NIR = "('xxxxxxxxxxxxxxxxx', 'XXXXXXXXXXXXXXXXD', 'XXXXXXXXXXXXXXXXS')"
LAG = "datediff('month', date_trunc('month', EXE_SOI_DTD), FLX_DIS_DTD)"

# property of each DCIR trap row, as SQL on ER_PRS_F (alias p)
DCIR_PROPERTIES = {
    "information_line": "p.DPN_QLF = 71 AND p.PRS_DPN_QLP = 71",
    "ete_ind_taa": "EXISTS (SELECT 1 FROM ER_ETE_F AS e WHERE "
    f"{on_keys('e', 'p')} AND e.ETE_IND_TAA = 1)",
    "regularisation": "(x.role LIKE 'cancellation%') = (p.PRS_ACT_QTE < 0)",
    "cancelled_dispensing": "(x.role LIKE 'cancellation%') = (p.PRS_ACT_QTE < 0)",
    "flat_fee": "p.CPL_AFF_COD = 16 AND p.BSE_PRS_NAT = 0",
    "majoration": "p.CPL_MAJ_TOP = 2",
    "franchise": f"p.BSE_PRS_NAT = 0 AND p.CPL_AFF_COD <> 16 AND NOT EXISTS "
    f"(SELECT 1 FROM ER_PHA_F AS d WHERE {on_keys('d', 'p')})",
    "late_flux": "datediff('month', date_trunc('month', p.EXE_SOI_DTD), p.FLX_DIS_DTD) > 6",
    "missing_date": "(x.column_name = 'EXE_SOI_DTF' AND p.EXE_SOI_DTF = DATE '1600-01-01') OR "
    "(x.column_name = 'PRE_PRE_DTD' AND p.PRE_PRE_DTD = DATE '1600-01-01')",
}


def _tolerance(rate: float, n: int) -> float:
    return 4.5 * math.sqrt(rate * (1 - rate) / n) + 0.002


def assert_rate(observed: int, n: int, rate: float, what: str) -> None:
    assert n > 0, what
    share = observed / n
    assert abs(share - rate) <= _tolerance(rate, n), (
        f"{what}: {observed}/{n} = {share:.4f}, expected {rate}"
    )


# -- DCIR ------------------------------------------------------------------------------
@pytest.mark.parametrize("dataset_name", ["recent", "high_rates"])
def test_every_dcir_trap_row_is_present_with_its_property(dataset_name, request):
    ds = request.getfixturevalue(dataset_name)
    traps = {r[0] for r in ds.q("SELECT DISTINCT trap FROM truth_traps_dcir")}
    assert set(DCIR_PROPERTIES) <= traps
    for trap, prop in DCIR_PROPERTIES.items():
        total, ok = ds.q(
            f"SELECT count(*), count(*) FILTER (WHERE {prop}) FROM truth_traps_dcir AS x "
            f"JOIN ER_PRS_F AS p ON {on_keys('p', 'x')} WHERE x.trap = '{trap}'"
        )[0]
        listed = ds.one(f"SELECT count(*) FROM truth_traps_dcir WHERE trap = '{trap}'")
        assert listed > 0 and total == listed, f"{trap}: {total} of {listed} rows found"
        assert ok == total, f"{trap}: {total - ok} rows without the property"


def _not_listed(ds, condition: str, traps: tuple[str, ...]) -> int:
    names = ", ".join(f"'{t}'" for t in traps)
    return ds.one(
        f"SELECT count(*) FROM ER_PRS_F AS p WHERE ({condition}) AND NOT EXISTS ("
        f"SELECT 1 FROM truth_traps_dcir AS x WHERE {on_keys('x', 'p')} AND x.trap IN ({names}))"
    )


def test_every_dcir_row_with_a_trap_property_is_listed(high_rates):
    ds = high_rates
    assert _not_listed(ds, "p.DPN_QLF = 71 OR p.PRS_DPN_QLP = 71", ("information_line",)) == 0
    assert _not_listed(ds, "p.PRS_ACT_QTE < 0", ("regularisation", "cancelled_dispensing")) == 0
    assert _not_listed(ds, "p.CPL_AFF_COD = 16", ("flat_fee",)) == 0
    assert _not_listed(ds, "p.CPL_MAJ_TOP >= 2", ("majoration",)) == 0
    assert _not_listed(ds, "p.BSE_PRS_NAT = 0", ("flat_fee", "franchise")) == 0
    assert _not_listed(ds, f"{LAG} > 6", ("late_flux",)) == 0
    assert _not_listed(ds, "p.EXE_SOI_DTF = DATE '1600-01-01'", ("missing_date",)) == 0
    assert _not_listed(ds, "p.PRE_PRE_DTD = DATE '1600-01-01'", ("missing_date",)) == 0
    taa = ds.one(
        "SELECT count(*) FROM ER_ETE_F AS e WHERE e.ETE_IND_TAA = 1 AND NOT EXISTS ("
        f"SELECT 1 FROM truth_traps_dcir AS x WHERE {on_keys('x', 'e')} AND x.trap = 'ete_ind_taa')"
    )
    assert taa == 0
    negative = ds.one("SELECT count(*) FROM ER_PHA_F WHERE PHA_ACT_QSN < 0")
    assert negative > 0


def test_summing_quantities_undoes_regularisations(high_rates):
    """Sum over identical (person, date, code) and keep sums > 0 (SNDS primer §3): the
    result is exactly the true dispensings."""
    ds = high_rates
    person = "SELECT DISTINCT BEN_NIR_PSA, BEN_RNG_GEM, BEN_IDT_ANO FROM IR_BEN_R"
    rows = ds.q(
        "WITH data AS (SELECT b.BEN_IDT_ANO, p.EXE_SOI_DTD AS day, d.PHA_PRS_C13 AS code, "
        f"  sum(d.PHA_ACT_QSN) AS q FROM ER_PHA_F AS d JOIN ER_PRS_F AS p USING ({KEYS}) "
        f"  JOIN ({person}) AS b USING (BEN_NIR_PSA, BEN_RNG_GEM) GROUP BY ALL HAVING "
        "sum(d.PHA_ACT_QSN) > 0), "
        "truth AS (SELECT BEN_IDT_ANO, date AS day, code, sum(quantity) AS q FROM "
        "truth_dispensings "
        "  WHERE table_name = 'ER_PHA_F' GROUP BY ALL) "
        "SELECT count(*) FILTER (WHERE data.q IS NULL), count(*) FILTER (WHERE truth.q IS NULL), "
        "  count(*) FILTER (WHERE data.q <> truth.q), count(*) "
        "FROM data FULL JOIN truth USING (BEN_IDT_ANO, day, code)"
    )[0]
    only_truth, only_data, different, total = rows
    assert total > 1000 and (only_truth, only_data, different) == (0, 0, 0)
    naive = ds.one("SELECT count(*) FROM ER_PHA_F")
    assert naive > total  # counting lines without the rule is wrong


def test_cip7_only_lines_in_older_years(older):
    listed = older.one("SELECT count(*) FROM truth_traps_dcir WHERE trap = 'cip7_only'")
    tables = [t for t in older.tables if t.startswith("ER_PHA_F")]
    union = " UNION ALL ".join(f"SELECT * FROM {t}" for t in tables)
    found = older.one(
        f"SELECT count(*) FROM truth_traps_dcir AS x JOIN ({union}) AS d "
        f"ON {on_keys('d', 'x')} AND d.PHA_ORD_NUM = x.detail_ord "
        "WHERE x.trap = 'cip7_only' AND d.PHA_PRS_C13 IS NULL AND d.PHA_PRS_IDE IS NOT NULL"
    )
    assert listed > 100 and found == listed
    unlisted = older.one(
        f"SELECT count(*) FROM ({union}) AS d WHERE d.PHA_PRS_C13 IS NULL AND NOT EXISTS ("
        f"SELECT 1 FROM truth_traps_dcir AS x WHERE {on_keys('x', 'd')} AND x.detail_ord = "
        "d.PHA_ORD_NUM)"
    )
    assert unlisted == 0
    # only care years up to cip7_only_until_year (2007 by default)
    prs = " UNION ALL ".join(f"SELECT * FROM {t}" for t in older.tables if t.startswith("ER_PRS_F"))
    late = older.one(
        f"SELECT count(*) FROM truth_traps_dcir AS x JOIN ({prs}) AS p "
        f"ON {on_keys('p', 'x')} WHERE x.trap = 'cip7_only' AND year(p.EXE_SOI_DTD) > 2007"
    )
    assert late == 0


# -- PMSI ------------------------------------------------------------------------------
def _stays(ds, suffix: str = "B") -> str:
    years = sorted({t[5:7] for t in ds.tables if t.startswith("T_MCO")})
    return " UNION ALL ".join(f"SELECT *, '{y}' AS yy FROM T_MCO{y}{suffix}" for y in years)


PMSI_PROPERTIES = {
    "error_ghm": "b.GRG_GHM LIKE '90%'",
    "invalid_nir_ano": f"c.NIR_ANO_17 IN {INVALID_NIR}",
    "sej_typ_b": "b.SEJ_TYP = 'B'",
    "ret_code": "(x.column_name = 'NAI_RET' AND c.NAI_RET = '1') OR "
    + " OR ".join(
        f"(x.column_name = '{c}' AND c.{c})"
        for c in (
            "NIR_RET",
            "SEX_RET",
            "SEJ_RET",
            "FHO_RET",
            "PMS_RET",
            "COH_NAI_RET",
            "COH_SEX_RET",
        )
    ),
}


@pytest.mark.parametrize("dataset_name", ["recent", "high_rates"])
def test_every_pmsi_trap_row_is_present_with_its_property(dataset_name, request):
    ds = request.getfixturevalue(dataset_name)
    for trap, prop in PMSI_PROPERTIES.items():
        listed = ds.one(f"SELECT count(*) FROM truth_traps_pmsi WHERE trap = '{trap}'")
        ok = ds.one(
            f"SELECT count(*) FROM truth_traps_pmsi AS x JOIN ({_stays(ds)}) AS b "
            "ON b.ETA_NUM = x.ETA_NUM AND b.RSA_NUM = x.RSA_NUM AND x.table_name = 'T_MCO' || "
            "b.yy || 'B' "
            f"JOIN ({_stays(ds, 'C')}) AS c ON c.ETA_NUM = b.ETA_NUM AND c.RSA_NUM = b.RSA_NUM "
            f"AND c.yy = b.yy WHERE x.trap = '{trap}' AND ({prop})"
        )
        assert ok == listed, f"{trap}: {ok} of {listed}"
    if dataset_name == "high_rates":
        assert {r[0] for r in ds.q("SELECT DISTINCT trap FROM truth_traps_pmsi")} >= set(
            PMSI_PROPERTIES
        )


def test_every_pmsi_row_with_a_trap_property_is_listed(high_rates):
    ds = high_rates
    listed = {(r[0], r[1]) for r in ds.q("SELECT ETA_NUM, RSA_NUM FROM truth_traps_pmsi")}
    b = set(
        ds.q(
            f"SELECT ETA_NUM, RSA_NUM FROM ({_stays(ds)}) WHERE GRG_GHM LIKE '90%' OR SEJ_TYP = 'B'"
        )
    )
    c = set(
        ds.q(
            f"SELECT ETA_NUM, RSA_NUM FROM ({_stays(ds, 'C')}) WHERE NIR_ANO_17 IN {INVALID_NIR} "
            "OR NIR_RET "
            "OR SEX_RET OR SEJ_RET OR FHO_RET OR PMS_RET OR NAI_RET <> '0' OR DAT_RET <> '0' "
            "OR COH_NAI_RET OR COH_SEX_RET"
        )
    )
    geo = ", ".join(f"'{c}'" for c in finess_duplicate_list(166))
    d = set(ds.q(f"SELECT ETA_NUM, RSA_NUM FROM ({_stays(ds)}) WHERE ETA_NUM IN ({geo})"))
    assert b and c and d
    assert (b | c | d) <= listed


def test_spurious_stays_carry_disease_codes_of_persons_without_the_disease(high_rates):
    rows = high_rates.q(
        "SELECT x.trap, b.DGN_PAL, x.BEN_IDT_ANO FROM truth_traps_pmsi AS x "
        f"JOIN ({_stays(high_rates)}) AS b USING (ETA_NUM, RSA_NUM) "
        "WHERE x.trap IN ('error_ghm', 'ret_code', 'invalid_nir_ano')"
    )
    assert len(rows) > 20
    conditions = set(high_rates.q("SELECT BEN_IDT_ANO, condition FROM truth_conditions"))
    for trap, dp, person in rows:
        if dp.startswith(("I21", "I20", "I24")):
            assert (person, "acs") not in conditions, (trap, dp)
        if dp.startswith(("I61", "I63", "I64")):
            assert (person, "stroke") not in conditions, (trap, dp)


@pytest.mark.parametrize("dataset_name", ["recent", "high_rates"])
def test_geographic_duplicates_copy_a_stay_of_the_legal_entity(dataset_name, request):
    ds = request.getfixturevalue(dataset_name)
    legal = "('750712184', '130786049', '690781810')"
    copies = ds.q(
        "SELECT x.ETA_NUM, x.original_ETA_NUM, b.DGN_PAL = o.DGN_PAL AND b.GRG_GHM = o.GRG_GHM "
        "AND coalesce(b.DGN_REL, '') = coalesce(o.DGN_REL, '') AND c.NIR_ANO_17 = oc.NIR_ANO_17 "
        "AND c.EXE_SOI_DTD = oc.EXE_SOI_DTD AND c.EXE_SOI_DTF = oc.EXE_SOI_DTF AND b.RSA_NUM <> "
        "o.RSA_NUM, "
        "b.yy FROM truth_traps_pmsi AS x "
        f"JOIN ({_stays(ds)}) AS b USING (ETA_NUM, RSA_NUM) "
        f"JOIN ({_stays(ds, 'C')}) AS c ON c.ETA_NUM = b.ETA_NUM AND c.RSA_NUM = b.RSA_NUM AND "
        "c.yy = b.yy "
        f"JOIN ({_stays(ds)}) AS o ON o.ETA_NUM = x.original_ETA_NUM AND o.RSA_NUM = "
        "x.original_RSA_NUM "
        f"JOIN ({_stays(ds, 'C')}) AS oc ON oc.ETA_NUM = o.ETA_NUM AND oc.RSA_NUM = o.RSA_NUM "
        "AND oc.yy = o.yy "
        "WHERE x.trap = 'duplicate_geographic_finess'"
    )
    assert len(copies) > 5
    list46 = set(finess_duplicate_list(46))
    for geo, original, same, yy in copies:
        assert geo in list46 and original in legal and same, (geo, original)
        if dataset_name == "recent":
            assert int(yy) <= 17  # the double transmission ended in 2017
    # every stay of the legal entities in a duplicated year has its copy (2016-2017 here;
    # every year in training mode)
    years = ("16", "17") if dataset_name == "recent" else ("19", "20", "21")
    legal_stays = ds.one(
        f"SELECT count(*) FROM ({_stays(ds)}) WHERE ETA_NUM IN {legal} AND yy IN {years} "
        "AND coalesce(SEJ_TYP, '') <> 'B'"
    )
    assert legal_stays > 5 and legal_stays == len([c for c in copies if c[3] in years])


# -- persons and ALD -------------------------------------------------------------------
@pytest.mark.parametrize("dataset_name", ["recent", "high_rates"])
def test_person_traps_match_the_beneficiary_table(dataset_name, request):
    ds = request.getfixturevalue(dataset_name)

    def listed(trap):
        return set(
            ds.q(f"SELECT BEN_NIR_PSA, BEN_RNG_GEM FROM truth_traps_persons WHERE trap = '{trap}'")
        )

    twins = set(
        ds.q(
            "SELECT BEN_NIR_PSA, BEN_RNG_GEM FROM IR_BEN_R WHERE BEN_NIR_PSA IN (SELECT "
            "BEN_NIR_PSA "
            "FROM IR_BEN_R GROUP BY 1 HAVING count(DISTINCT BEN_IDT_ANO) > 1)"
        )
    )
    assert twins and twins == listed("twin")
    pairs = ds.q(
        "SELECT BEN_NIR_PSA, list(DISTINCT BEN_RNG_GEM ORDER BY BEN_RNG_GEM), count(DISTINCT "
        "(BEN_NAI_ANN, BEN_SEX_COD)) FROM IR_BEN_R WHERE BEN_NIR_PSA IN (SELECT BEN_NIR_PSA "
        "FROM truth_traps_persons WHERE trap = 'twin') GROUP BY 1"
    )
    assert all(ranks == [1, 2] and same == 1 for _, ranks, same in pairs)
    several = set(
        ds.q(
            "SELECT BEN_NIR_PSA, BEN_RNG_GEM FROM IR_BEN_R WHERE BEN_IDT_ANO IN (SELECT "
            "BEN_IDT_ANO "
            "FROM IR_BEN_R GROUP BY 1 HAVING count(DISTINCT BEN_NIR_PSA) > 1)"
        )
    )
    assert several and several == listed("multiple_nir")
    fictitious = set(
        ds.q(f"SELECT BEN_NIR_PSA, BEN_RNG_GEM FROM IR_BEN_R WHERE BEN_CDI_NIR IN {FICTITIOUS}")
    )
    assert fictitious == listed("fictitious_nir")
    assert (
        ds.one(
            f"SELECT count(*) FROM IR_BEN_R AS b JOIN truth_persons AS t USING (BEN_IDT_ANO) "
            f"WHERE (b.BEN_CDI_NIR IN {FICTITIOUS}) <> t.fictitious"
        )
        == 0
    )
    unknown = set(
        ds.q(
            "SELECT BEN_NIR_PSA, BEN_RNG_GEM FROM IR_BEN_R WHERE BEN_NIR_ANO IS NULL "
            f"AND BEN_CDI_NIR NOT IN {FICTITIOUS}"
        )
    )
    assert unknown == listed("unknown_nir_ano")
    rebuilt = ds.one(
        "SELECT count(*) FROM IR_BEN_R WHERE BEN_NIR_ANO IS NULL "
        "AND BEN_IDT_ANO <> BEN_NIR_PSA || CAST(BEN_RNG_GEM AS VARCHAR)"
    )
    assert rebuilt == 0  # BEN_IDT_ANO = BEN_NIR_PSA || BEN_RNG_GEM when the NIR is unknown
    # provisional NIR (03, 04) belong to persons with several pseudonyms
    provisional = set(
        ds.q("SELECT BEN_NIR_PSA, BEN_RNG_GEM FROM IR_BEN_R WHERE BEN_CDI_NIR IN ('03', '04')")
    )
    assert provisional <= listed("multiple_nir")


def test_fictitious_identities_are_not_patients_of_the_truth(high_rates):
    assert (
        high_rates.one(
            "SELECT count(*) FROM truth_conditions JOIN truth_persons USING (BEN_IDT_ANO) WHERE "
            "fictitious"
        )
        == 0
    )
    assert (
        high_rates.one(
            "SELECT count(*) FROM KI_CCI_R JOIN truth_persons USING (BEN_IDT_ANO) WHERE fictitious"
        )
        == 0
    )


def test_non_ald_exonerations_are_listed(high_rates):
    rows = set(
        high_rates.q(
            "SELECT BEN_NIR_PSA, IMB_ALD_DTD, IMB_ETM_NAT, MED_MTF_COD FROM IR_IMB_R "
            "WHERE IMB_ETM_NAT IN (11, 12, 13)"
        )
    )
    listed = set(
        high_rates.q(
            "SELECT BEN_NIR_PSA, IMB_ALD_DTD, IMB_ETM_NAT, MED_MTF_COD FROM truth_traps_ald "
            "WHERE trap = 'ald_not_ald'"
        )
    )
    assert rows and rows == listed


# -- rates -----------------------------------------------------------------------------
def test_dcir_traps_appear_at_their_configured_rates(high_rates):
    ds = high_rates
    truth_lines = ds.one("SELECT count(*) FROM truth_dispensings WHERE table_name = 'ER_PHA_F'")
    dup = ds.one(
        "SELECT count(*) FROM truth_traps_dcir WHERE trap = 'regularisation' AND role = "
        "'erroneous duplicate'"
    )
    assert_rate(dup, truth_lines, HIGH_RATES["regularisation"], "regularisation")
    spurious = ds.one(
        "SELECT count(*) FROM truth_traps_dcir WHERE trap = 'cancelled_dispensing' AND role = "
        "'spurious dispensing'"
    )
    assert_rate(spurious, truth_lines, HIGH_RATES["cancelled_dispensing"], "cancelled dispensing")
    town = ds.one(
        f"SELECT (SELECT count(*) FROM ER_PRS_F WHERE PRS_NAT_REF IN {CONSULTATIONS} AND "
        "BSE_PRS_NAT <> 0 "
        "AND CPL_MAJ_TOP = 0 AND DPN_QLF = 0) + "
        f"(SELECT count(*) FROM ER_BIO_F AS d JOIN ER_PRS_F AS p USING ({KEYS}) WHERE p.DPN_QLF "
        "= 0) + "
        f"(SELECT count(*) FROM ER_CAM_F AS d JOIN ER_PRS_F AS p USING ({KEYS}) "
        "WHERE p.DPN_QLF = 0 AND p.PRS_NAT_REF IN (1351, 1352))"
    )
    info = ds.one("SELECT count(*) FROM ER_PRS_F WHERE DPN_QLF = 71")
    assert_rate(info, town, HIGH_RATES["information_line"], "information lines")
    consultations = ds.one(
        f"SELECT count(*) FROM ER_PRS_F WHERE PRS_NAT_REF IN {CONSULTATIONS} "
        "AND BSE_PRS_NAT <> 0 AND CPL_MAJ_TOP = 0 AND DPN_QLF = 0"
    )
    assert_rate(
        ds.one("SELECT count(*) FROM ER_PRS_F WHERE CPL_AFF_COD = 16"),
        consultations,
        HIGH_RATES["flat_fee"],
        "flat fee",
    )
    assert_rate(
        ds.one("SELECT count(*) FROM ER_PRS_F WHERE CPL_MAJ_TOP = 2"),
        consultations,
        HIGH_RATES["majoration"],
        "majoration",
    )
    pharmacy = ds.one(
        f"SELECT count(*) FROM ER_PRS_F AS p WHERE PRS_NAT_REF IN {PHARMACY} AND BSE_PRS_NAT <> 0 "
        f"AND NOT EXISTS (SELECT 1 FROM truth_traps_dcir AS x WHERE {on_keys('x', 'p')} "
        "AND x.trap IN ('regularisation', 'cancelled_dispensing'))"
    )
    franchise = ds.one(
        f"SELECT count(*) FROM ER_PRS_F WHERE PRS_NAT_REF IN {PHARMACY} AND BSE_PRS_NAT = 0"
    )
    assert_rate(franchise, pharmacy, HIGH_RATES["franchise"], "franchise")
    base = ds.one("SELECT count(*) FROM ER_PRS_F WHERE BSE_PRS_NAT <> 0 AND CPL_MAJ_TOP = 0")
    missing = ds.one("SELECT count(*) FROM ER_PRS_F WHERE EXE_SOI_DTF = DATE '1600-01-01'")
    assert_rate(missing, base, HIGH_RATES["missing_date"], "missing dates")
    claims = ds.q(
        f"SELECT count(*), count(*) FILTER (WHERE lag > 6) FROM (SELECT DISTINCT FLX_DIS_DTD, "
        "FLX_TRT_DTD, FLX_EMT_TYP, FLX_EMT_NUM, FLX_EMT_ORD, ORG_CLE_NUM, DCT_ORD_NUM, "
        f"{LAG} AS lag FROM ER_PRS_F AS p WHERE DPN_QLF = 0 AND NOT EXISTS ("
        f"SELECT 1 FROM truth_traps_dcir AS x WHERE {on_keys('x', 'p')} "
        "AND x.trap IN ('regularisation', 'cancelled_dispensing')))"
    )[0]
    assert_rate(claims[1], claims[0], HIGH_RATES["late_flux"], "late flux")
    public = ds.one("SELECT count(*) FROM truth_stays WHERE sector = 'public'")
    echoes = ds.one(
        f"SELECT count(*) FROM ER_ETE_F AS e JOIN ER_PRS_F AS p USING ({KEYS}) "
        "WHERE e.ETE_IND_TAA = 1 AND p.PRS_NAT_REF = 2211"
    )
    assert_rate(echoes, public, HIGH_RATES["ete_ind_taa"], "ETE_IND_TAA = 1")


def test_pmsi_traps_appear_at_their_configured_rates(high_rates):
    true_stays = high_rates.one("SELECT count(*) FROM truth_stays")
    for trap in ("error_ghm", "ret_code", "invalid_nir_ano", "sej_typ_b"):
        n = high_rates.one(f"SELECT count(*) FROM truth_traps_pmsi WHERE trap = '{trap}'")
        assert_rate(n, true_stays, HIGH_RATES[trap], trap)


def test_person_traps_appear_at_their_configured_rates(high_rates):
    ds = high_rates
    persons = ds.one("SELECT count(*) FROM truth_persons")
    twins = ds.one("SELECT count(*) FROM truth_persons WHERE twin_of IS NOT NULL")
    not_twins = persons - twins
    fictitious = ds.one("SELECT count(*) FROM truth_persons WHERE fictitious")
    assert_rate(fictitious, not_twins, HIGH_RATES["fictitious_nir"], "fictitious NIR")
    eligible = not_twins - fictitious
    several = ds.one("SELECT count(*) FROM truth_persons WHERE identities > 1")
    assert_rate(several, eligible, HIGH_RATES["multiple_nir"], "several BEN_NIR_PSA")
    unknown = ds.one(
        "SELECT count(DISTINCT BEN_IDT_ANO) FROM truth_traps_persons WHERE trap = 'unknown_nir_ano'"
    )
    assert_rate(unknown, eligible - several, HIGH_RATES["unknown_nir_ano"], "unknown BEN_NIR_ANO")
    young = ds.one("SELECT count(*) FROM truth_persons WHERE birth_date > DATE '1999-01-01'")
    assert_rate(twins, young, HIGH_RATES["twins"], "twins among persons under 20")
    ald = ds.one("SELECT count(*) FROM truth_traps_ald WHERE trap = 'ald_not_ald'")
    assert_rate(ald, persons - fictitious, HIGH_RATES["ald_not_ald"], "non-ALD exonerations")
