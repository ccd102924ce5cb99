"""Every key resolves: DCIR details → ER_PRS_F on the 9 flux keys, PMSI C/D/A/UM → B,
persons through BEN_NIR_PSA/BEN_RNG_GEM/NIR_ANO_17/BEN_IDT_ANO, and every foreign key the
catalogue declares between generated tables."""

from __future__ import annotations

import pytest

from sndskit.catalog import resolve_table_name
from tests.synthetic.conftest import KEYS

INVALID_NIR = ("xxxxxxxxxxxxxxxxx", "XXXXXXXXXXXXXXXXD", "XXXXXXXXXXXXXXXXS")
DETAILS = ("ER_PHA_F", "ER_BIO_F", "ER_CAM_F", "ER_ETE_F", "ER_UCD_F")


def test_er_prs_f_primary_key_is_unique(recent):
    total, distinct = recent.q(f"SELECT count(*), count(DISTINCT ({KEYS})) FROM ER_PRS_F")[0]
    assert total > 10_000 and total == distinct


@pytest.mark.parametrize("detail", DETAILS)
def test_each_detail_row_joins_exactly_one_er_prs_f_row(recent, detail):
    rows, matched = recent.q(
        f"SELECT count(*), count(p.PRS_NAT_REF) FROM {detail} AS d "
        f"LEFT JOIN ER_PRS_F AS p USING ({KEYS})"
    )[0]
    assert matched == rows  # a left join that neither loses nor multiplies rows


def test_the_join_is_one_to_many_as_in_the_real_dcir(recent):
    # several drugs of one nature in one claim share one ER_PRS_F line: never sum
    # ER_PRS_F amounts after a join (SNDS primer §3)
    multi = recent.one(
        f"SELECT count(*) FROM (SELECT {KEYS} FROM ER_PHA_F GROUP BY ALL HAVING count(*) > 1)"
    )
    assert multi > 0
    mismatched = recent.one(
        f"SELECT count(*) FROM (SELECT {KEYS}, sum(PHA_ACT_QSN) AS q FROM ER_PHA_F GROUP BY ALL) "
        f"JOIN ER_PRS_F USING ({KEYS}) WHERE PRS_ACT_QTE <> q"
    )
    assert mismatched == 0  # the line's quantity is the sum of its boxes


def test_pmsi_tables_join_their_stay_table_of_the_same_year(recent):
    for yy in range(16, 20):
        total, distinct = recent.q(
            f"SELECT count(*), count(DISTINCT (ETA_NUM, RSA_NUM)) FROM T_MCO{yy}B"
        )[0]
        assert total > 0 and total == distinct
        assert recent.one(f"SELECT count(*) FROM T_MCO{yy}B WHERE SOR_ANN <> 2000 + {yy}") == 0
        for suffix in ("C", "D", "A", "UM"):
            rows, matched = recent.q(
                f"SELECT count(*), count(b.GRG_GHM) FROM T_MCO{yy}{suffix} AS x "
                f"LEFT JOIN T_MCO{yy}B AS b USING (ETA_NUM, RSA_NUM)"
            )[0]
            assert rows > 0 and matched == rows, f"T_MCO{yy}{suffix}"
        # exactly one C row per stay
        assert recent.one(f"SELECT count(*) FROM T_MCO{yy}C") == total


def test_dcir_patients_are_beneficiaries(recent):
    for table in ("ER_PRS_F", "IR_IMB_R"):
        rows, matched = recent.q(
            f"SELECT count(*), count(b.BEN_IDT_ANO) FROM {table} AS t "
            "LEFT JOIN IR_BEN_R AS b USING (BEN_NIR_PSA, BEN_RNG_GEM)"
        )[0]
        assert rows > 0 and matched == rows
    total, distinct = recent.q(
        "SELECT count(*), count(DISTINCT (BEN_NIR_PSA, BEN_RNG_GEM)) FROM IR_BEN_R"
    )[0]
    assert total == distinct


def test_pmsi_pseudonyms_link_to_dcir_except_the_invalid_placeholders(recent):
    unmatched = recent.q(
        "SELECT DISTINCT c.NIR_ANO_17 FROM T_MCO18C AS c LEFT JOIN IR_BEN_R AS b "
        "ON b.BEN_NIR_PSA = c.NIR_ANO_17 WHERE b.BEN_NIR_PSA IS NULL "
        "UNION SELECT DISTINCT c.NIR_ANO_17 FROM T_MCO19C AS c LEFT JOIN IR_BEN_R AS b "
        "ON b.BEN_NIR_PSA = c.NIR_ANO_17 WHERE b.BEN_NIR_PSA IS NULL"
    )
    assert {r[0] for r in unmatched} <= set(INVALID_NIR)


def test_several_pseudonyms_map_to_one_person(recent):
    # count persons on BEN_IDT_ANO, never on BEN_NIR_PSA (SNDS primer §2)
    several = recent.one(
        "SELECT count(*) FROM (SELECT BEN_IDT_ANO FROM IR_BEN_R GROUP BY 1 "
        "HAVING count(DISTINCT BEN_NIR_PSA) > 1)"
    )
    assert several > 0
    persons = recent.one("SELECT count(DISTINCT BEN_IDT_ANO) FROM IR_BEN_R")
    assert persons == recent.one("SELECT count(*) FROM truth_persons")


def test_deaths_link_to_beneficiaries(recent):
    rows, matched = recent.q(
        "SELECT count(*), count(b.BEN_IDT_ANO) FROM KI_CCI_R AS k "
        "LEFT JOIN (SELECT DISTINCT BEN_IDT_ANO FROM IR_BEN_R) AS b USING (BEN_IDT_ANO)"
    )[0]
    assert rows > 0 and matched == rows


@pytest.mark.parametrize("dataset_name", ["recent", "sample_dataset"])
def test_every_declared_foreign_key_between_generated_tables_resolves(dataset_name, request):
    ds = request.getfixturevalue(dataset_name)
    present = {resolve_table_name(t).template: t for t in ds.tables}
    checked = 0
    for name in ds.tables:
        table = ds.catalog.get_table(name)
        year = resolve_table_name(name).year
        for fk in table.foreign_keys:
            target = present.get(fk.reference_table)
            if target is None:
                continue  # a table the generator does not write (DA_PRA_R, T_MCOaaE …)
            if year is not None and resolve_table_name(target).year is not None:
                target = target[:5] + name[5:7] + target[7:]  # same PMSI year
            on = " AND ".join(
                f't."{a}" = r."{b}"' for a, b in zip(fk.fields, fk.reference_fields, strict=True)
            )
            not_null = " AND ".join(f't."{a}" IS NOT NULL' for a in fk.fields)
            exists = f"SELECT 1 FROM {target} AS r WHERE {on}"
            orphans = ds.q(
                f"SELECT DISTINCT {', '.join(f't.{a}' for a in fk.fields)} FROM {name} AS t "
                f"WHERE {not_null} AND NOT EXISTS ({exists})"
            )
            allowed = {(n,) for n in INVALID_NIR} if fk.fields == ("NIR_ANO_17",) else set()
            assert set(orphans) <= allowed, f"{name} → {target} on {fk.fields}: {orphans[:3]}"
            checked += 1
    assert checked >= 8
