"""The release ledger on its own, EXPORT.md as proof of origin, and the CLI's layout."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sndskit.cli import app
from sndskit.disclosure import DisclosureError
from sndskit.disclosure.ledger import Release, check_and_record, data_fingerprint, ledger_path
from sndskit.disclosure.publish import export_markdown
from sndskit.disclosure.scan import check_export
from sndskit.engines.datasource import DataFolder


def _release(definition, value, table="counts", stratum=("2019", "85+", "female")):
    return Release("family", definition, table, stratum, value)


def test_ledger_refuses_small_differences_within_a_family_only(tmp_path):
    home = tmp_path / "home"
    check_and_record("fp", [_release("a", 40)], 10, output="run", home=home)
    check_and_record("fp", [_release("a", 45)], 10, output="run", home=home)  # same definition
    check_and_record("fp", [_release("b", 56)], 10, output="run", home=home)  # 11 apart
    check_and_record("fp", [_release("c", 56)], 10, output="run", home=home)  # 0 apart
    other = Release("other family", "d", "counts", ("2019", "85+", "female"), 43)
    check_and_record("fp", [other], 10, output="run", home=home)
    check_and_record("other data", [_release("e", 43)], 10, output="run", home=home)
    with pytest.raises(DisclosureError, match="differs by 3"):
        check_and_record("fp", [_release("f", 43)], 10, output="run", home=home)
    lines = ledger_path("fp", home).read_text().splitlines()
    assert len(lines) == 5  # a, a, b, c, other family; the refused release is not recorded
    section = check_and_record("fp", [_release("f", 43)], 10, output="run", force=True, home=home)
    assert section["forced"] and "differs by 3" in section["overrides"][0]


def test_attrition_steps_are_compared_across_step_names(tmp_path):
    home = tmp_path / "home"
    old = _release("a", 359, table="attrition", stratum=("exclusion: x", "persons"))
    check_and_record("fp", [old], 10, output="run", home=home)
    new = _release("b", 352, table="attrition", stratum=("cohort (after exit rules)", "persons"))
    with pytest.raises(DisclosureError, match="differs by 7"):
        check_and_record("fp", [new], 10, output="run", home=home)


def test_fingerprint_follows_the_data_not_its_folder(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "IR_BEN_R.csv").write_text("BEN_IDT_ANO\nP1\n")
    same = {data_fingerprint(DataFolder(tmp_path / n)) for n in ("a", "b")}
    assert len(same) == 1
    (tmp_path / "b" / "IR_BEN_R.csv").write_text("BEN_IDT_ANO\nP1\nP2\n")
    assert data_fingerprint(DataFolder(tmp_path / "b")) not in same


def test_a_file_changed_after_sndskit_wrote_it_is_flagged(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    (export / "counts.csv").write_text("year,persons,threshold\n2019,120,10\n")
    (export / "EXPORT.md").write_text(export_markdown(export, "t", 10, ["rule"], []))
    assert {r.file: r.status for r in check_export(export, move=False)}["counts.csv"] == "pass"
    (export / "counts.csv").write_text("year,persons,threshold\n2019,121,10\n")
    report = {r.file: r for r in check_export(export, move=False)}["counts.csv"]
    assert report.status == "review" and "changed" in report.notes[0]


def test_stats_on_a_folder_that_is_not_a_run_is_a_clear_error(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "IR_BEN_R.csv").write_text("BEN_IDT_ANO\nP1\n")
    result = CliRunner().invoke(
        app, ["cohort", "stats", str(tmp_path / "nothing"), "--data", str(tmp_path / "data")]
    )
    assert result.exit_code != 0
    assert "not the output folder of `sndskit cohort run`" in str(result.exception)
