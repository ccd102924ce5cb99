"""The EDB is derived from the study: expected tables, variables and years are computed
here by hand from the example cohorts and the primer's rules, not by the code under test."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from sndskit.access.edb import build_edb
from sndskit.access.spec import load_study
from sndskit.errors import SndskitError
from tests.access.conftest import COHORTS, STUDY, example_study

NINE_KEYS = {  # primer §3: the DCIR detail tables join ER_PRS_F on these
    "FLX_DIS_DTD",
    "FLX_TRT_DTD",
    "FLX_EMT_TYP",
    "FLX_EMT_NUM",
    "FLX_EMT_ORD",
    "ORG_CLE_NUM",
    "DCT_ORD_NUM",
    "PRS_ORD_NUM",
    "REM_TYP_AFF",
}


def _columns(edb) -> set[tuple[str, str]]:
    return {(v.table, v.column) for v in edb.variables()}


def test_components_tables_and_years_of_the_example_match_the_hand_computation(store_home):
    edb = build_edb(load_study(STUDY))
    # t2d_treated: town-pharmacy drugs → ER_PRS_F + ER_PHA_F, the cnam preset's TAA filter →
    # ER_ETE_F (primer §3); persons → IR_BEN_R. acs_hospitalised: DP only → T_MCOaaB (DGN_PAL)
    # and T_MCOaaC (pseudonym, dates); no T_MCOaaD/UM since DAS are not asked.
    assert {c: {t.name for t in ts} for c, ts in edb.components().items()} == {
        "BENEFICIAIRE": {"IR_BEN_R"},
        "DCIR": {"ER_PRS_F", "ER_PHA_F", "ER_ETE_F"},
        "PMSI MCO": {"T_MCOaaB", "T_MCOaaC"},
    }
    # Care dates 2020-01-01 … 2022-12-31 + 365 days for the 3rd dispensing = 2023-12-31,
    # read from flux 2020-01 to 2023-12 + 6 months of lag (primer §3).
    for name in ("ER_PRS_F", "ER_PHA_F", "ER_ETE_F"):
        assert edb.tables[name].flux == (date(2020, 1, 1), date(2024, 6, 30))
    # PMSI is filed by discharge year: stays of 2020-2022 are in the 2020-2023 tables; the
    # analysis variables of T_MCOaaB follow up to 2023-12-31, hence discharge years to 2024,
    # and the 2024 stays reach the person only through T_MCO24C (primer §4).
    assert edb.tables["T_MCOaaC"].years == {2020, 2021, 2022, 2023, 2024}
    assert edb.tables["T_MCOaaB"].years == {2020, 2021, 2022, 2023, 2024}
    assert edb.tables["IR_BEN_R"].years == set() and edb.tables["IR_BEN_R"].flux is None
    assert edb.first_year() == 2020 and edb.last_year() == 2024


def test_variables_of_the_example_follow_the_primer_recipes(store_home):
    edb = build_edb(load_study(STUDY))
    columns = _columns(edb)
    assert {c for t, c in columns if t == "ER_PHA_F"} >= NINE_KEYS
    assert {("ER_PHA_F", "PHA_PRS_C13"), ("ER_PHA_F", "PHA_ACT_QSN")} <= columns
    assert {("ER_PRS_F", c) for c in ("DPN_QLF", "PRS_DPN_QLP", "BSE_PRS_NAT")} <= columns
    assert ("ER_ETE_F", "ETE_IND_TAA") in columns
    assert ("T_MCOaaB", "DGN_PAL") in columns and ("T_MCOaaB", "DGN_REL") not in columns
    assert {("T_MCOaaB", "SOR_MOD"), ("T_MCOaaB", "SEJ_NBJ"), ("IR_BEN_R", "BEN_RES_DPT")} <= (
        columns
    )
    pha = edb.tables["ER_PHA_F"].variables["PHA_PRS_C13"]
    assert pha.cohorts == ["t2d_treated"] and pha.objectives == []
    sor = edb.tables["T_MCOaaB"].variables["SOR_MOD"]
    assert sor.cohorts == [] and sor.objectives == ["O2"]
    assert sor.label == "Mode de sortie du champ PMSI-MCO"  # French label from the catalogue


def test_potential_identifiers_are_flagged_from_the_catalogue(store_home):
    edb = build_edb(load_study(STUDY))
    flagged = {k: {(v.table, v.column) for v in vs} for k, vs in edb.identifying().items()}
    # The cohorts read exact care dates and the exact death date (primer §6 list).
    assert flagged == {
        "exact_care_dates": {("ER_PRS_F", "EXE_SOI_DTD"), ("T_MCOaaC", "EXE_SOI_DTD")},
        "exact_death_date": {("IR_BEN_R", "BEN_DCD_DTE")},
    }


def _one_cohort_study(tmp_path, extra_cohort_yaml: str = "") -> dict:
    cohort = (COHORTS / "t2d_treated.yaml").read_text(encoding="utf-8") + extra_cohort_yaml
    (tmp_path / "t2d.yaml").write_text(cohort, encoding="utf-8")
    data = example_study()
    data["cohorts"] = [{"spec": str(tmp_path / "t2d.yaml"), "objectives": ["O1", "O2"]}]
    data["variables"] = []
    return data


def test_a_criterion_on_a_new_source_adds_exactly_the_tables_and_variables_it_reads(
    tmp_path, write_study
):
    before = build_edb(write_study(_one_cohort_study(tmp_path), "before.yaml"))
    extra = (
        "\nexclusion:\n  - name: long-term condition before index\n"
        "    events: [{source: long_term_condition, codelist: t2d_diagnoses}]\n"
        "    window: {start: -365, end: 0}\n"
    )
    after = build_edb(write_study(_one_cohort_study(tmp_path, extra), "after.yaml"))
    # Primer §5: an ALD is read in IR_IMB_R by person (BEN_NIR_PSA, BEN_RNG_GEM, primer §2),
    # ICD-10 code MED_MTF_COD, exonerating motive IMB_ETM_NAT and its start date IMB_ALD_DTD
    # (the event date of the cohort engine).
    assert _columns(after) - _columns(before) == {
        ("IR_IMB_R", c)
        for c in ("BEN_NIR_PSA", "BEN_RNG_GEM", "MED_MTF_COD", "IMB_ETM_NAT", "IMB_ALD_DTD")
    }
    assert _columns(before) <= _columns(after)
    # The 365-day look-back moves the first DCIR flux month one year earlier.
    assert after.tables["ER_PRS_F"].flux[0] == date(2019, 1, 1)
    assert after.tables["IR_IMB_R"].component == "DCIR_DCIRS"


def test_unknown_variable_names_the_line_and_suggests(write_study):
    data = example_study()
    data["variables"][1]["variable"] = "T_MCOaaB.SOR_MDO"
    study = write_study(data)
    with pytest.raises(SndskitError) as info:
        build_edb(study)
    text = str(info.value)
    assert "SOR_MOD" in text and "variables.1.variable" in text
    line = study.path.read_text(encoding="utf-8").splitlines()[info.value.line - 1]
    assert "SOR_MDO" in line


def test_unknown_table_suggests_the_closest(write_study):
    data = example_study()
    data["variables"][0]["variable"] = "IR_BNE_R.BEN_RES_DPT"
    with pytest.raises(SndskitError, match="IR_BEN_R"):
        build_edb(write_study(data))


def test_study_spec_errors_point_at_the_file_and_line(tmp_path):
    text = STUDY.read_text(encoding="utf-8").replace("route: standard", "route: mr009")
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SndskitError) as info:
        load_study(path)
    assert info.value.field == "route" and "mr007" in info.value.allowed
    assert text.splitlines()[info.value.line - 1].startswith("route:")
    path.write_text(STUDY.read_text(encoding="utf-8") + "colour: blue\n", encoding="utf-8")
    with pytest.raises(SndskitError, match="unknown field"):
        load_study(path)


def test_missing_cohort_file_is_an_error_on_its_line(write_study):
    data = example_study()
    data["cohorts"][0]["spec"] = "nowhere.yaml"
    with pytest.raises(SndskitError, match="cohort spec not found") as info:
        build_edb(write_study(data))
    assert info.value.field == "cohorts.0.spec"


def test_spec_cross_field_rules(tmp_path):
    data = yaml.safe_load(STUDY.read_text(encoding="utf-8"))
    data["objectives"].append(dict(data["objectives"][0]))
    path = tmp_path / "dup.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SndskitError, match="duplicate objective ids: O1"):
        load_study(path)


def test_an_analysis_variable_brings_the_keys_that_tie_it_to_the_person(tmp_path, write_study):
    base = _one_cohort_study(tmp_path)  # t2d_treated only: no PMSI table read
    before = build_edb(write_study(base, "before.yaml"))
    base["variables"] = [
        {"variable": "T_MCOaaD.ASS_DGN", "justification": "DAS", "objectives": ["O1"]},
    ]
    after = build_edb(write_study(base, "after.yaml"))
    # Primer §4: DAS in T_MCOaaD join the stay T_MCOaaB on (ETA_NUM, RSA_NUM); the stay joins
    # the patient table T_MCOaaC, whose NIR_ANO_17 is the person's BEN_NIR_PSA (primer §2).
    assert _columns(after) - _columns(before) == {
        ("T_MCOaaD", "ASS_DGN"),
        ("T_MCOaaD", "ETA_NUM"),
        ("T_MCOaaD", "RSA_NUM"),
        ("T_MCOaaB", "ETA_NUM"),
        ("T_MCOaaB", "RSA_NUM"),
        ("T_MCOaaC", "ETA_NUM"),
        ("T_MCOaaC", "RSA_NUM"),
        ("T_MCOaaC", "NIR_ANO_17"),
    }
    # targeting from 2020 (no depth) to follow-up end 2023, + the next discharge year
    for name in ("T_MCOaaD", "T_MCOaaB", "T_MCOaaC"):
        assert after.tables[name].years == {2020, 2021, 2022, 2023, 2024}
    link = after.tables["T_MCOaaC"].variables["NIR_ANO_17"].reasons
    assert [(r.kind, r.ref, r.detail) for r in link] == [
        ("link", "T_MCOaaD", "T_MCOaaD → T_MCOaaB → T_MCOaaC → IR_BEN_R")
    ]
    assert after.requested == [("T_MCOaaD", "ASS_DGN")]
