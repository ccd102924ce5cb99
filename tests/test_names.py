"""Per-year and archive table names round-trip between physical and template forms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sndskit.catalog.names import instantiate, is_year_templated, resolve_table_name

PMSI_TEMPLATES = ["T_MCOaaB", "T_MCOaaD", "T_MCOaaUM", "T_SSRaaB", "T_HADaaC", "T_RIPaaRSA"]


@given(st.sampled_from(PMSI_TEMPLATES), st.integers(min_value=2000, max_value=2099))
def test_pmsi_names_round_trip(template, year):
    physical = instantiate(template, year)
    assert physical == template.replace("aa", f"{year % 100:02d}", 1)
    resolved = resolve_table_name(physical.lower())
    assert (resolved.template, resolved.year, resolved.physical) == (template, year, physical)


@given(st.sampled_from(["CT_IDE_AAAA_GN", "CT_IND_AAAA_GN"]), st.integers(2010, 2099))
def test_cartography_names_round_trip(template, year):
    resolved = resolve_table_name(instantiate(template, year))
    assert (resolved.template, resolved.year) == (template, year)


@pytest.mark.parametrize("name", ["ER_PRS_F_2012", "er_pha_f_2010"])
def test_dcir_archives_resolve_to_the_flow_table(name):
    resolved = resolve_table_name(name)
    assert resolved.template == name.upper()[:-5] and resolved.year == int(name[-4:])
    assert instantiate(resolved.template, resolved.year, dcir_archive=True) == name.upper()


def test_plain_names_are_upper_cased_and_unchanged():
    assert resolve_table_name(" ir_ben_r ").template == "IR_BEN_R"
    assert instantiate("IR_BEN_R", 2019, dcir_archive=True) == "IR_BEN_R"
    assert not is_year_templated("ER_PRS_F")
    assert is_year_templated("T_MCOaaB") and is_year_templated("CT_IDE_AAAA_GN")
