"""The medical_device source (LPP codes of ER_TIP_F), added as one registry module: its
dispensings enter a cohort like drugs do, with the DCIR filters of the preset."""

from __future__ import annotations

from datetime import date

from sndskit.codelists.export import import_codelist
from sndskit.codelists.model import save_codelist
from sndskit.cohorts.runner import resolve_codelists, run_cohort
from sndskit.cohorts.spec import CohortSpec
from sndskit.engines.datasource import DataFolder
from sndskit.specs import parse_spec
from tests.cohorts.builder import SndsBuilder

LPP = "1234567"
SPEC = """
name: devices
period: {start: 2019-01-01, end: 2019-12-31}
entry:
  events: [{source: medical_device, codelist: lpp.json}]
  occurrences: {at_least: 2}
"""


def test_device_dispensings_enter_the_cohort_and_information_lines_do_not(tmp_path, engine):
    b = SndsBuilder()
    for person in (1, 2, 3):
        b.person(person)
    for day in (date(2019, 3, 1), date(2019, 4, 1)):
        b.dispensing(1, day)  # two device lines → in
    b.dispensing(2, date(2019, 3, 1))
    b.dispensing(2, date(2019, 4, 1), dpn_qlf=71)  # the second is an information line → out
    b.dispensing(3, date(2019, 3, 1))  # one line → out
    b.tables["ER_TIP_F"] = [
        {
            **{k: v for k, v in row.items() if not k.startswith("PHA_")},
            "TIP_PRS_IDE": int(LPP),  # typed integer, as the official schema says
            "TIP_ACT_QSN": row["PHA_ACT_QSN"],
        }
        for row in b.tables.pop("ER_PHA_F")
    ]
    b.stay(999, date(2019, 6, 1), dp="Z000")
    (tmp_path / "lpp.csv").write_text(f"vocabulary,code\nLPP,{LPP}\n")
    save_codelist(import_codelist(tmp_path / "lpp.csv"), tmp_path / "lpp.json")
    spec = parse_spec(SPEC, CohortSpec)
    result = run_cohort(
        spec,
        DataFolder(b.write(tmp_path / "data")),
        tmp_path / "out",
        codelists=resolve_codelists(spec, tmp_path),
        threshold=1,
        unsafe_threshold=True,
        engine=engine,
    )
    assert result.persons == 1
    assert result.manifest["inputs"]["tables"]["ER_TIP_F"] == [
        "DCT_ORD_NUM",
        "FLX_DIS_DTD",
        "FLX_EMT_NUM",
        "FLX_EMT_ORD",
        "FLX_EMT_TYP",
        "FLX_TRT_DTD",
        "ORG_CLE_NUM",
        "PRS_ORD_NUM",
        "REM_TYP_AFF",
        "TIP_ACT_QSN",
        "TIP_PRS_IDE",
    ]
