"""The event-source registry: docs generated from it, spec fields checked against it, code
locations joined to their own field's tables."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from sndskit.cohorts.spec import Event
from sndskit.engines.occurrences import occurrences_query
from sndskit.snds.facts import CODE_COLUMNS, CodeColumn
from sndskit.snds.schema import DataSchema
from sndskit.snds.sources import SOURCES, CodeLocation, code_locations
from sndskit.snds.sources.table import replace_sources_table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cohorts.md"


def test_docs_event_source_table_is_the_registry():
    page = DOCS.read_text(encoding="utf-8")
    expected = replace_sources_table(page)
    if os.environ.get("SNDSKIT_UPDATE_DOCS"):
        DOCS.write_text(expected, encoding="utf-8")
    assert page == expected, "docs/cohorts.md differs from the registry: SNDSKIT_UPDATE_DOCS=1"


@pytest.mark.parametrize(
    ("source", "field"), [("drug_dispensing", "roles"), ("biology", "procedures_in")]
)
def test_an_option_of_another_source_is_rejected_with_the_allowed_fields(source, field):
    value = ["DP"] if field == "roles" else ["dcir"]
    with pytest.raises(ValidationError, match=f"{field} does not apply to {source} events") as e:
        Event(source=source, codelist="x", **{field: value})
    assert "source, codelist" in str(e.value)


def test_options_default_per_source_and_unknown_sources_list_the_registry():
    assert Event(source="hospital_diagnosis", codelist="x").option("roles") == ("DP", "DR", "DAS")
    assert Event(source="hospital_diagnosis", codelist="x", roles=["DP"]).option("roles") == ("DP",)
    with pytest.raises(ValidationError, match="drug_dispensing"):
        Event(source="drugs", codelist="x")
    with pytest.raises(ValidationError, match="take no code list"):
        Event(source="death", codelist="x")


def test_every_code_location_is_a_declared_code_column_and_every_column_is_read():
    locations = code_locations()
    assert {loc.column for loc in locations} == set(CODE_COLUMNS)
    for source in SOURCES.values():
        for location in source.code_locations:
            assert location.column.vocabulary in source.vocabularies
            assert (location.link == "pmsi") == (location.patients is not None)


def test_year_tables_join_their_own_fields_patient_table():
    """The YAML this registry replaced joined every year table to T_MCOaaC: an SSR location
    would have been joined to MCO patients. A location joins its declared patient table."""
    stays = dict.fromkeys(["ETA_NUM", "RSA_NUM", "DGN_PAL", "DGN_REL"], "VARCHAR")
    patients = dict.fromkeys(["ETA_NUM", "RSA_NUM", "NIR_ANO_17", "EXE_SOI_DTD"], "VARCHAR")
    mco = DataSchema({"T_MCO19B": stays, "T_MCO19C": patients})
    query = occurrences_query(mco, "CIM10").sql()
    assert "T_MCO19C" in query and "T_SSR" not in query
    ssr = CodeLocation(
        CodeColumn("CIM10", "T_SSRaaB", "DGN_PAL", "string"), "pmsi", patients="T_SSRaaC"
    )
    from sndskit.engines import occurrences

    schema = DataSchema({"T_SSR19B": stays, "T_SSR19C": patients, "T_MCO19C": patients})
    sql = occurrences._select(schema, ssr, "T_SSR19B", 2019).sql()
    assert "T_SSR19C" in sql and "T_MCO19C" not in sql


def test_per_year_names_agree_with_the_catalogue():
    from sndskit.catalog.names import instantiate
    from sndskit.snds.facts import dcir_archive_table, pmsi_table

    for template in ("T_MCOaaB", "T_MCOaaC", "T_MCOaaUM", "T_SSRaaB"):
        for year in (2006, 2013, 2019, 2023):
            assert pmsi_table(template, year) == instantiate(template, year)
    assert dcir_archive_table("ER_PRS_F", 2012) == instantiate("ER_PRS_F", 2012, dcir_archive=True)
