"""OMOP vocabulary store: Athena files (comma or tab) into DuckDB, errors, derived ancestors."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from sndskit.errors import SndskitError
from sndskit.omop.vocabulary import VOCAB_TABLES, connect_vocabulary, load_vocabulary

from .conftest import SHARED, VOCAB_SAMPLE, ancestors_from_csv, sample_rows

CDM_FIELDS = SHARED / "omop" / "cdm-5.4" / "OMOP_CDMv5.4_Field_Level.csv"
CDM_TYPES = {"integer": "INTEGER", "date": "DATE", "float": "DOUBLE"}


def test_tables_follow_the_cdm_5_4_field_specification():
    spec: dict[str, list[tuple[str, str]]] = {}
    with CDM_FIELDS.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            kind = row["cdmDatatype"].lower()
            duck = CDM_TYPES.get(kind, "VARCHAR" if kind.startswith("varchar") else kind)
            spec.setdefault(row["cdmTableName"].lower(), []).append((row["cdmFieldName"], duck))
    for table, columns in VOCAB_TABLES.items():
        assert list(columns.items()) == spec[table], table


def test_sample_extract_loads_with_every_row(vocab_db):
    con = connect_vocabulary(vocab_db)
    for name, table in (
        ("CONCEPT.csv", "concept"),
        ("CONCEPT_RELATIONSHIP.csv", "concept_relationship"),
    ):
        expected = len(sample_rows(name))
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == expected
    # Quoted empty strings ("") are NULL, as Athena means them.
    row = con.execute(
        "SELECT standard_concept, invalid_reason FROM concept WHERE concept_id = 40316773"
    ).fetchone()
    assert row == (None, "U")
    con.close()


def test_derived_ancestor_equals_the_closure_computed_in_python(vocab_db):
    closure = ancestors_from_csv()
    con = connect_vocabulary(vocab_db)
    rows = con.execute(
        "SELECT ancestor_concept_id, descendant_concept_id FROM concept_ancestor "
        "WHERE ancestor_concept_id <> descendant_concept_id"
    ).fetchall()
    derived: dict[int, set[int]] = {}
    for ancestor, descendant in rows:
        derived.setdefault(descendant, set()).add(ancestor)
    assert derived == {k: v for k, v in closure.items() if v}
    # Standard concepts are their own ancestor at level 0 (Athena's convention).
    assert con.execute(
        "SELECT min_levels_of_separation FROM concept_ancestor "
        "WHERE ancestor_concept_id = 201826 AND descendant_concept_id = 201826"
    ).fetchone() == (0,)
    info = con.execute(
        "SELECT derived FROM sndskit_vocabulary_load WHERE table_name = 'concept_ancestor'"
    ).fetchone()
    assert info == (True,)
    con.close()


def _write_tsv(source: Path, target: Path, rows: int | None = None) -> None:
    """Athena style: tab-separated, unquoted, dates YYYYMMDD."""
    with (
        source.open(encoding="utf-8", newline="") as src,
        target.open("w", encoding="utf-8") as out,
    ):
        reader = csv.reader(src)
        for i, row in enumerate(reader):
            if rows is not None and i > rows:
                break
            if i:
                row = [c.replace("-", "") if len(c) == 10 and c[4] == "-" else c for c in row]
            out.write("\t".join(row) + "\n")


def test_tab_separated_athena_files_with_compact_dates(tmp_path):
    folder = tmp_path / "athena"
    folder.mkdir()
    _write_tsv(VOCAB_SAMPLE / "CONCEPT.csv", folder / "CONCEPT.csv")
    _write_tsv(VOCAB_SAMPLE / "CONCEPT_RELATIONSHIP.csv", folder / "CONCEPT_RELATIONSHIP.csv", 500)
    result = load_vocabulary(folder, tmp_path / "v.duckdb")
    assert result.rows("concept") == len(sample_rows("CONCEPT.csv"))
    assert result.rows("concept_relationship") == 500
    load = next(t for t in result.tables if t.table == "concept")
    assert (load.delimiter, load.date_format) == ("tab", "%Y%m%d")
    con = duckdb.connect(str(tmp_path / "v.duckdb"), read_only=True)
    assert (
        str(
            con.execute(
                "SELECT valid_end_date FROM concept WHERE concept_id = 40316773"
            ).fetchone()[0]
        )
        == "2002-01-31"
    )
    con.close()


def _concept_file(folder: Path, lines: list[str]) -> None:
    folder.mkdir(exist_ok=True)
    header = ",".join(VOCAB_TABLES["concept"])
    (folder / "CONCEPT.csv").write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")


def test_malformed_row_names_file_line_and_column(tmp_path):
    good = "1,Asthma,Condition,SNOMED,Clinical Finding,S,195967001,1970-01-01,2099-12-31,"
    bad = "x2,Gout,Condition,SNOMED,Clinical Finding,S,90560007,1970-01-01,2099-12-31,"
    _concept_file(tmp_path / "a", [good, good.replace("1,", "3,", 1), bad])
    with pytest.raises(SndskitError) as caught:
        load_vocabulary(tmp_path / "a", tmp_path / "v.duckdb")
    message = str(caught.value)
    assert "CONCEPT.csv:4" in message and "field 'concept_id'" in message
    assert "allowed: INTEGER" in message


def test_bad_date_and_missing_column_and_untouched_previous_database(tmp_path):
    db = tmp_path / "v.duckdb"
    good = "1,Asthma,Condition,SNOMED,Clinical Finding,S,195967001,1970-01-01,2099-12-31,"
    _concept_file(tmp_path / "ok", [good])
    load_vocabulary(tmp_path / "ok", db)
    _concept_file(tmp_path / "bad", [good.replace("2099-12-31", "2099-13-31")])
    with pytest.raises(SndskitError, match=r"CONCEPT.csv:2: field 'valid_end_date'"):
        load_vocabulary(tmp_path / "bad", db)
    folder = tmp_path / "cols"
    folder.mkdir()
    (folder / "CONCEPT.csv").write_text("concept_id,concept_name\n1,x\n", encoding="utf-8")
    with pytest.raises(
        SndskitError, match=r"CONCEPT.csv:1: field 'domain_id'.*allowed: concept_id"
    ):
        load_vocabulary(folder, db)
    con = duckdb.connect(str(db), read_only=True)  # the first load is still there
    assert con.execute("SELECT concept_name FROM concept").fetchall() == [("Asthma",)]
    con.close()


def test_folder_without_concept_file(tmp_path):
    with pytest.raises(SndskitError, match="no CONCEPT file"):
        load_vocabulary(tmp_path, tmp_path / "v.duckdb")
