"""The Charlson index: a score per person, its hierarchy, and its components against the
planted synthetic conditions (truth files read here with pyarrow, not through the engine)."""

from __future__ import annotations

from datetime import date

import pyarrow.parquet as pq
import pytest

from sndskit.algorithms import get_algorithm, run_algorithm
from sndskit.engines.datasource import DataFolder

pytestmark = pytest.mark.shared_data
WEIGHTS = {  # Charlson 1987 weights, written here independently of algorithm.yaml
    "myocardial_infarction": 1,
    "heart_failure": 1,
    "peripheral_vascular": 1,
    "cerebrovascular": 1,
    "dementia": 1,
    "chronic_pulmonary": 1,
    "rheumatic": 1,
    "peptic_ulcer": 1,
    "mild_liver": 1,
    "diabetes_uncomplicated": 1,
    "diabetes_complicated": 2,
    "hemiplegia": 2,
    "renal": 2,
    "malignancy": 2,
    "severe_liver": 3,
    "metastatic": 6,
    "hiv_aids": 6,
}
REPLACES = {
    "diabetes_complicated": "diabetes_uncomplicated",
    "severe_liver": "mild_liver",
    "metastatic": "malignancy",
}
MODELLED = {  # component → synthetic module (condition) it should reflect
    "myocardial_infarction": "acs",
    "heart_failure": "heart_failure",
    "cerebrovascular": "stroke",
    "chronic_pulmonary": "copd",
    "diabetes_uncomplicated": "t2d",
    "diabetes_complicated": "t2d",
    "malignancy": "breast_cancer",
}
START, END = date(2017, 1, 1), date(2021, 12, 31)


@pytest.fixture(scope="module")
def charlson(synthetic, tmp_path_factory):
    out = tmp_path_factory.mktemp("charlson") / "out"
    run_algorithm(
        get_algorithm("charlson"), DataFolder(synthetic), out, threshold=1, unsafe_threshold=True
    )
    rows = pq.read_table(out / "private" / "persons.parquet").to_pylist()
    return {
        r["person_id"]: ({c.removesuffix(".yaml") for c in r["cohorts"]}, r["score"]) for r in rows
    }


def test_the_score_is_the_weighted_sum_with_its_hierarchy(charlson):
    assert charlson
    for components, score in charlson.values():
        kept = components - {REPLACES[c] for c in components if c in REPLACES}
        assert score == sum(WEIGHTS[c] for c in kept)


def test_hierarchy_on_a_hand_built_case(tmp_path):
    from tests.cohorts.builder import SndsBuilder, nir

    b = SndsBuilder()
    b.person(1)
    b.stay(1, date(2020, 3, 1), dp="E112", das=["E119", "C509", "C787"])  # DM compl., meta
    b.stay(1, date(2021, 5, 1), dp="I500")
    b.person(2)
    b.stay(2, date(2016, 5, 1), dp="I500")  # before N-4: not counted
    b.person(3)
    b.tables["IR_IMB_R"] = [  # an ALD of depression only: in no Charlson component
        {
            "BEN_NIR_PSA": nir(3),
            "BEN_RNG_GEM": 1,
            "IMB_ALD_DTD": date(2019, 1, 1),
            "IMB_ALD_DTF": date(1600, 1, 1),
            "IMB_ETM_NAT": 41,
            "MED_MTF_COD": "F329",
        }
    ]
    run = run_algorithm(
        get_algorithm("charlson"),
        DataFolder(b.write(tmp_path / "d")),
        tmp_path / "out",
        threshold=1,
        unsafe_threshold=True,
    )
    assert set(run.persons) == {"P000001"}
    assert run.persons["P000001"]["score"] == 2 + 6 + 1  # not + 1 (DM) nor + 2 (malignancy)


def _truth(synthetic) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for c in pq.read_table(synthetic / "truth" / "conditions").to_pylist():
        if c["onset_date"] <= END and (c["end_date"] is None or c["end_date"] >= START):
            out.setdefault(c["BEN_IDT_ANO"], {})[c["condition"]] = c
    return out


def test_components_found_are_true_conditions(charlson, synthetic):
    truth = _truth(synthetic)
    for component, condition in MODELLED.items():
        found = [p for p, (components, _) in charlson.items() if component in components]
        true = [p for p in found if condition in truth.get(p, {})]
        if len(found) >= 10:
            assert len(true) / len(found) >= 0.9, (component, len(found), len(true))


def test_conditions_with_an_ald_started_in_the_window_are_found(charlson, synthetic):
    truth = _truth(synthetic)
    by_condition: dict[str, set[str]] = {}
    for component, condition in MODELLED.items():
        by_condition.setdefault(condition, set()).add(component)
    lists = get_algorithm("charlson").codelists
    for condition, components in by_condition.items():
        codes = {c for comp in components for c in lists[f"codelists/{comp}.json"].codes()}
        cases = [  # unstable angina (I20.0) is an ACS but not a myocardial infarction
            p
            for p, cs in truth.items()
            if condition in cs
            and cs[condition]["icd10"] in codes
            and cs[condition]["ald_start"] is not None
            and START <= cs[condition]["ald_start"] <= END
        ]
        hits = [p for p in cases if charlson.get(p, (set(), 0))[0] & components]
        if len(cases) >= 10:
            assert len(hits) / len(cases) >= 0.9, (condition, len(cases), len(hits))
