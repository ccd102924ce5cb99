"""The CDM reproduces the synthetic SNDS: expected values computed here with pyarrow from the
raw tables and the planted truth, never by the SQL under test."""

from __future__ import annotations

from collections import Counter, defaultdict

import pyarrow.compute as pc
import pytest

from sndskit.omop.etl.cdm import etl_concepts
from sndskit.synthetic.boxes import pack_units
from sndskit.synthetic.truth_tables import TWIN_STAY

pytestmark = pytest.mark.shared_data
VALID_CDI = {"00", "03", "04", None}


def _unresolvable(converted) -> set[str]:
    """Persons SNDS itself cannot resolve (fictitious NIR, PMSI pseudonym unknown to IR_BEN_R,
    twins sharing a pseudonym): left out on both sides."""
    traps = ("fictitious_nir", "unknown_nir_ano", "twin")
    return {r["BEN_IDT_ANO"] for r in converted.truth("traps_persons") if r["trap"] in traps}


def test_persons_are_distinct_ben_idt_ano_with_a_valid_nir(converted):
    ben = converted.raw("IR_BEN_R")
    cdi = ben.column("BEN_CDI_NIR").to_pylist()
    ids = ben.column("BEN_IDT_ANO").to_pylist()
    expected = {i for i, c in zip(ids, cdi, strict=True) if c in VALID_CDI}
    persons = converted.table("person")
    found = [p["person_source_value"] for p in persons]
    assert len(found) == len(set(found)) == len(expected)
    assert set(found) == expected
    assert len({p["person_id"] for p in persons}) == len(persons)


def test_gender_and_birth_year_from_the_beneficiary_table(converted):
    truth = {p["BEN_IDT_ANO"]: p for p in converted.truth("persons")}
    gender = etl_concepts()["gender"]
    checked = 0
    for person in converted.table("person"):
        planted = truth.get(person["person_source_value"])
        if planted is None:
            continue
        assert person["gender_concept_id"] == gender[str(planted["sex"])]
        assert person["year_of_birth"] == planted["birth_date"].year
        checked += 1
    assert checked > 1500


def test_drug_quantity_is_netted_boxes_times_units(converted):
    """Truth dispensings (before regularisation, information-line and TAA traps) summed per
    person, day and CIP13, times the units of the BDPM pack label."""
    import duckdb

    con = duckdb.connect(str(converted.store), read_only=True)
    labels = dict(
        con.execute("SELECT code, label FROM concepts WHERE vocabulary = 'CIP13'").fetchall()
    )
    con.close()
    skip = _unresolvable(converted)
    boxes: dict[tuple, int] = defaultdict(int)
    for row in converted.truth("dispensings"):
        if row["BEN_IDT_ANO"] not in skip:
            boxes[(row["BEN_IDT_ANO"], row["date"], row["code"])] += row["quantity"]
    expected = {k: q * (pack_units(labels.get(k[2], "")) or 1) for k, q in boxes.items() if q > 0}
    source = {p["person_id"]: p["person_source_value"] for p in converted.table("person")}
    found = {}
    for row in converted.table("drug_exposure"):
        if row["drug_source_value"].startswith("3400"):
            key = (
                source[row["person_id"]],
                row["drug_exposure_start_date"],
                row["drug_source_value"],
            )
            if key[0] not in skip:
                found[key] = row["quantity"]
    assert found == pytest.approx(expected)


def test_condition_rows_per_role_with_their_status_concepts(converted):
    """Every DP, DR and DAS of a kept stay is a condition row with the role's status; DAS =
    associated diagnoses and unit diagnoses minus the stay's DP."""
    kept = {
        (r["visit_source_value"], r["visit_start_date"])
        for r in converted.table("visit_occurrence")
        if r["visit_concept_id"] == etl_concepts()["visit"]["inpatient"]
    }
    person_of = {
        r["visit_source_value"]: r["person_id"] for r in converted.table("visit_occurrence")
    }
    expected: set[tuple] = set()
    for year in (18, 19, 20):
        stays = converted.raw(f"T_MCO{year}B").to_pylist()
        dp = {(s["ETA_NUM"], s["RSA_NUM"]): s["DGN_PAL"] for s in stays}
        roles = [(s["ETA_NUM"], s["RSA_NUM"], s["DGN_PAL"], "DP") for s in stays]
        roles += [(s["ETA_NUM"], s["RSA_NUM"], s["DGN_REL"], "DR") for s in stays]
        for table, columns in (
            (f"T_MCO{year}D", ["ASS_DGN"]),
            (f"T_MCO{year}UM", ["DGN_PAL", "DGN_REL"]),
        ):
            for row in converted.raw(table).to_pylist():
                for column in columns:
                    if row[column] != dp.get((row["ETA_NUM"], row["RSA_NUM"])):
                        roles.append((row["ETA_NUM"], row["RSA_NUM"], row[column], "DAS"))
        dates = {
            (r["visit_source_value"]): r["visit_start_date"]
            for r in converted.table("visit_occurrence")
        }
        for eta, rsa, code, role in roles:
            key = f"{eta}:{rsa}"
            if code and key in dates and (key, dates[key]) in kept:
                expected.add((person_of[key], dates[key], code, role))
    found = {
        (
            r["person_id"],
            r["condition_start_date"],
            r["condition_source_value"],
            r["condition_status_source_value"],
        )
        for r in converted.table("condition_occurrence")
        if r["condition_status_source_value"] != "ALD"
    }
    assert found == expected
    status = etl_concepts()["condition_status"]
    for row in converted.table("condition_occurrence"):
        assert row["condition_status_concept_id"] == status[row["condition_status_source_value"]]
    counts = Counter(
        r["condition_status_source_value"] for r in converted.table("condition_occurrence")
    )
    assert counts["DP"] > 0 and counts["DR"] > 0 and counts["DAS"] > 0


def test_deaths_from_every_source(converted):
    """Every resolvable person the truth says died has one death row on the planted date;
    the type says which source gave it (KI_CCI_R certificate first)."""
    skip = _unresolvable(converted)
    planted = {
        p["BEN_IDT_ANO"]: p["death_date"]
        for p in converted.truth("persons")
        if p["death_date"] is not None and p["BEN_IDT_ANO"] not in skip and not p["fictitious"]
    }
    source = {p["person_id"]: p["person_source_value"] for p in converted.table("person")}
    deaths = converted.table("death")
    found = {source[d["person_id"]]: d["death_date"] for d in deaths}
    assert len(found) == len(deaths)
    assert {k: v for k, v in found.items() if k in planted} == planted
    certificates = set(converted.raw("KI_CCI_R").column("BEN_IDT_ANO").to_pylist())
    types = etl_concepts()["type"]
    for death in deaths:
        if source[death["person_id"]] in certificates:
            assert death["death_type_concept_id"] == types["death_certificate"]
    assert {d["death_type_concept_id"] for d in deaths} >= {types["death_certificate"]}


def test_drug_days_supply_follows_the_pack(converted):
    for row in converted.table("drug_exposure")[:2000]:
        days = (row["drug_exposure_end_date"] - row["drug_exposure_start_date"]).days + 1
        assert days == row["days_supply"]


def test_observation_period_contains_every_claim(converted):
    """One period per person holding every claim-based record (ALD registrations may start
    before: they are history)."""
    periods = {p["person_id"]: p for p in converted.table("observation_period")}
    assert len(periods) == len(converted.table("observation_period"))
    for table, column in (
        ("condition_occurrence", "condition_start_date"),
        ("drug_exposure", "drug_exposure_start_date"),
        ("procedure_occurrence", "procedure_date"),
    ):
        for row in converted.table(table):
            if row.get("condition_status_source_value") == "ALD":
                continue
            period = periods[row["person_id"]]
            start, end = (period[f"observation_period_{k}_date"] for k in ("start", "end"))
            assert start <= row[column] <= end


def test_person_count_is_not_pseudonym_count(converted):
    """Several BEN_NIR_PSA per person (multiple_nir trap) are one person."""
    ben = converted.raw("IR_BEN_R")
    pseudonyms = len(
        set(
            zip(
                ben.column("BEN_NIR_PSA").to_pylist(),
                ben.column("BEN_RNG_GEM").to_pylist(),
                strict=True,
            )
        )
    )
    assert pseudonyms > len(converted.table("person"))
    assert pc.count_distinct(ben.column("BEN_IDT_ANO")).as_py() >= len(converted.table("person"))


UPSTREAM_RETURN_CODES = ("COH_NAI_RET", "COH_SEX_RET")  # not yet in snds.facts.RETURN_CODES


def _kept_stays(converted, upstream_gap: bool = True) -> dict[tuple[str, str], dict]:
    """Stays expected after the PMSI rules, computed from the raw tables and the planted traps:
    no error GHM, no inter-establishment session (SEJ_TYP B), no return-code or placeholder
    pseudonym, not under a duplicated AP-HP/AP-HM/HCL FINESS (46-code list), and a pseudonym
    the beneficiary table knows (with a valid NIR). The true stays of twins sharing a PMSI
    pseudonym (``twin_shared_pseudonym``) are listed in ``traps_pmsi`` but are real stays."""
    from sndskit.snds.facts import finess_duplicates

    trapped = {
        (r["ETA_NUM"], r["RSA_NUM"])
        for r in converted.truth("traps_pmsi")
        if r["trap"] != TWIN_STAY
        and not (upstream_gap and r["column_name"] in UPSTREAM_RETURN_CODES)
    }
    finess = set(finess_duplicates("finess_46"))
    ben = converted.raw("IR_BEN_R").to_pylist()
    known = {b["BEN_NIR_PSA"] for b in ben if b["BEN_CDI_NIR"] in VALID_CDI}
    kept = {}
    for year in (18, 19, 20):
        patients = {
            (c["ETA_NUM"], c["RSA_NUM"]): c for c in converted.raw(f"T_MCO{year}C").to_pylist()
        }
        for stay in converted.raw(f"T_MCO{year}B").to_pylist():
            key = (stay["ETA_NUM"], stay["RSA_NUM"])
            patient = patients.get(key)
            if key in trapped or stay["ETA_NUM"] in finess or patient is None:
                continue
            if patient["NIR_ANO_17"] in known:
                kept[key] = {**patient, "year": year}
    return kept


def test_inpatient_visits_are_the_stays_kept_by_the_pmsi_rules(converted):
    expected = _kept_stays(converted)
    inpatient = etl_concepts()["visit"]["inpatient"]
    found = {
        tuple(r["visit_source_value"].split(":"))
        for r in converted.table("visit_occurrence")
        if r["visit_concept_id"] == inpatient
    }
    assert found == set(expected)
    assert len(found) > 100


def test_twin_stays_are_one_visit_of_the_smallest_person(converted):
    """PMSI cannot tell same-sex twins apart (no birth rank): a stay under their shared
    pseudonym is one visit, given to the smallest BEN_IDT_ANO carrying that pseudonym
    (sndskit.snds.identity.pmsi_person)."""
    kept = _kept_stays(converted)
    twins = {
        (r["ETA_NUM"], r["RSA_NUM"])
        for r in converted.truth("traps_pmsi")
        if r["trap"] == TWIN_STAY and (r["ETA_NUM"], r["RSA_NUM"]) in kept
    }
    owners: dict[str, str] = {}
    for b in converted.raw("IR_BEN_R").to_pylist():
        if b["BEN_CDI_NIR"] in VALID_CDI:
            psa = b["BEN_NIR_PSA"]
            owners[psa] = min(owners.get(psa, b["BEN_IDT_ANO"]), b["BEN_IDT_ANO"])
    source = {p["person_id"]: p["person_source_value"] for p in converted.table("person")}
    visits = defaultdict(list)
    for r in converted.table("visit_occurrence"):
        key = tuple(r["visit_source_value"].split(":"))
        if key in twins:
            visits[key].append(source[r["person_id"]])
    assert twins
    assert visits == {k: [owners[kept[k]["NIR_ANO_17"]]] for k in twins}


@pytest.mark.xfail(
    strict=True,
    reason="snds.facts.RETURN_CODES lacks COH_NAI_RET, COH_SEX_RET (primer §2: checked "
    "from 2013); the ETL reuses that filter and inherits the fix",
)
def test_stays_with_coherence_return_codes_are_dropped(converted):
    expected = _kept_stays(converted, upstream_gap=False)
    inpatient = etl_concepts()["visit"]["inpatient"]
    found = {
        tuple(r["visit_source_value"].split(":"))
        for r in converted.table("visit_occurrence")
        if r["visit_concept_id"] == inpatient
    }
    assert found == set(expected)


def test_pmsi_acts_dated_entry_plus_delay(converted):
    from datetime import timedelta

    kept = _kept_stays(converted)
    source = {p["person_id"]: p["person_source_value"] for p in converted.table("person")}
    found = {
        (source[r["person_id"]], r["procedure_date"], r["procedure_source_value"])
        for r in converted.table("procedure_occurrence")
    }
    pseudonym = {b["BEN_NIR_PSA"]: b["BEN_IDT_ANO"] for b in converted.raw("IR_BEN_R").to_pylist()}
    checked = 0
    for year in (18, 19, 20):
        for act in converted.raw(f"T_MCO{year}A").to_pylist():
            stay = kept.get((act["ETA_NUM"], act["RSA_NUM"]))
            if stay is None or stay["year"] != year:
                continue
            day = stay["EXE_SOI_DTD"].date() + timedelta(days=act["ENT_DAT_DEL"] or 0)
            person = pseudonym[stay["NIR_ANO_17"]]
            if person in _unresolvable(converted):
                continue
            assert (person, day, act["CDC_ACT"]) in found
            checked += 1
    assert checked > 100


FLUX_KEYS = ("FLX_DIS_DTD", "FLX_TRT_DTD", "FLX_EMT_TYP", "FLX_EMT_NUM", "FLX_EMT_ORD",
             "ORG_CLE_NUM", "DCT_ORD_NUM", "PRS_ORD_NUM", "REM_TYP_AFF")  # fmt: skip


def _keys(table, where=None) -> set[tuple]:
    rows = table.select(list(FLUX_KEYS) + ([where[0]] if where else [])).to_pylist()
    return {tuple(r[k] for k in FLUX_KEYS) for r in rows if not where or r[where[0]] == where[1]}


def test_dcir_visits_and_their_reimbursed_amounts(converted):
    """DCIR lines after the cnam filters (information lines, no nature, TAA), grouped by
    person, care date, provider and visit kind; groups netting to ≤ 0 dropped; amounts in
    cents. Computed line by line in Python from the raw tables."""
    concepts = etl_concepts()["visit"]
    tele = set(etl_concepts()["teleconsultation_natures"])
    ben = converted.raw("IR_BEN_R").to_pylist()
    person = {}
    for b in ben:
        if b["BEN_CDI_NIR"] in VALID_CDI:
            key = (b["BEN_NIR_PSA"], b["BEN_RNG_GEM"])
            person[key] = min(person.get(key, b["BEN_IDT_ANO"]), b["BEN_IDT_ANO"])
    taa = _keys(converted.raw("ER_ETE_F"), ("ETE_IND_TAA", 1))
    pharmacy, lab = _keys(converted.raw("ER_PHA_F")), _keys(converted.raw("ER_BIO_F"))
    groups: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for line in converted.raw("ER_PRS_F").to_pylist():
        who = person.get((line["BEN_NIR_PSA"], line["BEN_RNG_GEM"]))
        key = tuple(line[k] for k in FLUX_KEYS)
        if (
            who is None
            or 71 in (line["DPN_QLF"], line["PRS_DPN_QLP"])
            or line["BSE_PRS_NAT"] == 0
            or key in taa
            or line["EXE_SOI_DTD"].year < 2006
        ):
            continue
        kind = (
            "pharmacy" if key in pharmacy
            else "laboratory" if key in lab
            else "telehealth" if line["PRS_NAT_REF"] in tele
            else "outpatient"
        )  # fmt: skip
        group = groups[(who, line["EXE_SOI_DTD"], line["PFS_EXE_NUM"], concepts[kind])]
        group[0] += line["PRS_ACT_QTE"]
        group[1] += round(line["BSE_REM_MNT"] * 100)
    kept = {k: cents for k, (quantity, cents) in groups.items() if quantity > 0}
    costs = converted.table("cost")
    assert len(costs) == len(kept)
    assert round(sum(c["paid_by_payer"] for c in costs) * 100) == sum(kept.values())
    visits = [v for v in converted.table("visit_occurrence") if v["visit_source_value"] == "DCIR"]
    assert Counter(v["visit_concept_id"] for v in visits) == Counter(k[3] for k in kept)
    assert {c["cost_event_id"] for c in costs} == {v["visit_occurrence_id"] for v in visits}


def test_ald_conditions_carry_their_registration_period(converted):
    """An ALD registration is a period: start IMB_ALD_DTD, end IMB_ALD_DTF (1600-01-01 or
    NULL = still in force → no end); exonerating motives only (not 11, 12, 13)."""
    from datetime import date as day

    pseudonym = {
        (b["BEN_NIR_PSA"], b["BEN_RNG_GEM"]): b["BEN_IDT_ANO"]
        for b in converted.raw("IR_BEN_R").to_pylist()
        if b["BEN_CDI_NIR"] in VALID_CDI
    }
    ends: dict[tuple, day] = {}
    for row in converted.raw("IR_IMB_R").to_pylist():
        person = pseudonym.get((row["BEN_NIR_PSA"], row["BEN_RNG_GEM"]))
        if person is None or row["IMB_ETM_NAT"] in (11, 12, 13):
            continue
        end = row["IMB_ALD_DTF"]
        end = day.max if end in (None, day(1600, 1, 1)) else end
        key = (person, row["IMB_ALD_DTD"], row["MED_MTF_COD"])
        ends[key] = max(ends.get(key, end), end)
    expected = {k: (None if v == day.max else v) for k, v in ends.items()}
    source = {p["person_id"]: p["person_source_value"] for p in converted.table("person")}
    found = {
        (source[r["person_id"]], r["condition_start_date"], r["condition_source_value"]): r[
            "condition_end_date"
        ]
        for r in converted.table("condition_occurrence")
        if r["condition_status_source_value"] == "ALD"
    }
    assert found == expected
    assert any(v is None for v in found.values()) and any(v is not None for v in found.values())
