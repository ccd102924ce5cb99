"""Bad configurations are refused with an error naming the field and the allowed values."""

from __future__ import annotations

import pytest

from sndskit.errors import SndskitError
from sndskit.synthetic import MODULE_IDS, TrapRates, build_config, load_config_file
from sndskit.synthetic.definitions import finess_duplicate_list

BASE = {"patients": 100, "start_year": 2019, "end_year": 2020}


def _error(values, **kwargs) -> SndskitError:
    with pytest.raises(SndskitError) as info:
        build_config({**BASE, **values}, **kwargs)
    return info.value


def test_defaults_are_valid():
    config = build_config(BASE)
    assert config.years == [2019, 2020]
    assert config.modules == MODULE_IDS and config.format == "parquet"


def test_unknown_parameter_names_the_allowed_ones():
    err = _error({"patiens": 10})
    assert err.field == "patiens" and "patients" in err.allowed and "traps" in err.allowed


def test_unknown_trap_names_the_trap_parameters():
    err = _error({"traps": {"regularization": 0.1}})
    assert err.field == "traps.regularization"
    assert set(err.allowed) == set(TrapRates.model_fields)


def test_bad_format_lists_the_formats():
    err = _error({"format": "xlsx"})
    assert err.field == "format" and err.allowed == ["parquet", "csv"]
    assert "xlsx" in str(err)


def test_unknown_module_lists_the_modules():
    err = _error({"modules": ["t2d", "asthma"]})
    assert err.field == "modules" and set(err.allowed) == set(MODULE_IDS)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"traps": {"regularisation": 1.5}}, "traps.regularisation"),
        ({"traps": {"late_flux": 0.9}}, "traps.late_flux"),
        ({"patients": 0}, "patients"),
        ({"start_year": 1990}, "start_year"),
        ({"end_year": 2018}, "end_year"),
        ({"chunk_size": 300, "part_size": 1000}, "part_size"),
        ({"modules": ["t2d", "t2d"]}, "modules"),
        ({"patients": 2_000_000, "chunk_size": 100}, "chunk_size"),
    ],
)
def test_out_of_range_values_name_their_field(values, field):
    err = _error(values)
    assert err.field == field, str(err)


def test_yaml_file_errors_name_the_file(tmp_path):
    path = tmp_path / "synth.yaml"
    path.write_text("traps:\n  regularisation: 0.05\n  ghost: 1\n", encoding="utf-8")
    with pytest.raises(SndskitError) as info:
        load_config_file(path, **BASE)
    assert info.value.file == str(path) and info.value.field == "traps.ghost"
    path.write_text("traps: [unclosed\n", encoding="utf-8")
    with pytest.raises(SndskitError) as info:
        load_config_file(path, **BASE)
    assert info.value.file == str(path) and info.value.line is not None


def test_yaml_file_sets_trap_rates(tmp_path):
    path = tmp_path / "synth.yaml"
    path.write_text("traps:\n  regularisation: 0.05\nfiness_duplicates_all_years: true\n")
    config = load_config_file(path, **BASE)
    assert config.traps.regularisation == 0.05 and config.finess_duplicates_all_years
    assert config.traps.information_line == TrapRates().information_line


def test_both_finess_lists_are_shipped_with_their_sizes():
    # 46 codes (sndsTools) ⊂ 166 codes (documentation-snds), SNDS primer §4
    l46, l166 = finess_duplicate_list(46), finess_duplicate_list(166)
    assert len(set(l46)) == 46 and len(set(l166)) == 166 and set(l46) <= set(l166)
    assert all(len(code) == 9 and code.isdigit() for code in l166)
    assert {"750712184", "130786049", "690781810"}.isdisjoint(l166)  # legal entities stay


def test_default_parts_split_the_population_in_whole_chunks():
    # parts depend on the parameters only, never on the machine: same files everywhere
    config = build_config({**BASE, "patients": 1_000_000})
    assert config.chunk_size == 10_000 and config.effective_part_size == 70_000
    assert build_config({**BASE, "patients": 500}).effective_part_size == 10_000
    assert build_config({**BASE, "chunk_size": 100, "part_size": 300}).effective_part_size == 300
