"""Procedure-like vocabularies: CCAM, NABM, LPP, GHM/CMD loaders.

Real-data tests compare the loaders with plain-Python reads of the same files (csv, json,
gzip only) and with domain facts (primer §5); small hand-written folders cover the
hierarchy rules and the located errors.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from sndskit.config import builtin_sample_dir
from sndskit.errors import SndskitError
from sndskit.terminology.loaders.biology import load_biology
from sndskit.terminology.loaders.ccam import load_ccam
from sndskit.terminology.loaders.devices import load_devices
from sndskit.terminology.loaders.ghm import load_ghm
from sndskit.terminology.model import SYNONYM_KINDS, TerminologyBatch

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
NOMENCLATURES = SHARED / "schema-snds" / "nomenclatures"
NOMENSLAND = SHARED / "nomensland"
HAVE_SHARED = NOMENCLATURES.is_dir() and NOMENSLAND.is_dir()

ACT = re.compile(r"^[A-Z]{4}[0-9]{3}$")
LOADERS = {"CCAM": load_ccam, "NABM": load_biology, "LPP": load_devices, "GHM": load_ghm}


# --- independent readers (no sndskit code) ---------------------------------------------


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _json(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def _trim_strate(strate: str) -> str:
    return re.sub(r"(\.00)+$", "", strate)


def _by_code(batch: TerminologyBatch, vocabulary: str) -> dict:
    return {c.code: c for c in batch.concepts if c.vocabulary == vocabulary}


def _ancestors(concepts: dict, code: str) -> list[str]:
    chain = []
    while concepts[code].parent is not None:
        code = concepts[code].parent
        chain.append(code)
    return chain


@pytest.fixture(scope="module")
def batches() -> dict[str, TerminologyBatch]:
    if not HAVE_SHARED:
        pytest.skip(f"reference data not found at {SHARED}")
    return {name: load(SHARED) for name, load in LOADERS.items()}


# --- structure, for every loader -------------------------------------------------------


@pytest.mark.parametrize("name", list(LOADERS))
@pytest.mark.shared_data
def test_tree_is_well_formed(batches, name):
    batch = batches[name]
    keys = Counter((c.vocabulary, c.code) for c in batch.concepts)
    assert keys and max(keys.values()) == 1, "a code appears twice"
    concepts = {(c.vocabulary, c.code): c for c in batch.concepts}
    for concept in batch.concepts:
        assert concept.label.strip(), concept
        assert set(batch.versions) >= {concept.vocabulary}
        if concept.parent is None:
            assert concept.level in (1, None), concept
            continue
        parent = concepts.get((concept.vocabulary, concept.parent))
        assert parent is not None, f"dangling parent {concept}"
        assert concept.level == parent.level + 1, (concept, parent)
    for synonym in batch.synonyms:
        assert synonym.kind in SYNONYM_KINDS
        assert (synonym.vocabulary, synonym.code) in concepts
        assert synonym.text.strip()
    for relation in batch.relations:
        assert (relation.vocabulary_1, relation.code_1) in concepts
        assert (relation.vocabulary_2, relation.code_2) in concepts


@pytest.mark.parametrize("name", list(LOADERS))
def test_missing_sources_give_an_empty_batch(tmp_path, name):
    assert LOADERS[name](tmp_path) == TerminologyBatch([], [], [], {})
    assert LOADERS[name](builtin_sample_dir()).concepts == []


# --- CCAM -------------------------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.skipif(not HAVE_SHARED, reason="no shared data")
def test_ccam_codes_match_an_independent_count(batches):
    v63 = _csv_rows(NOMENCLATURES / "ATIH" / "IR_CCAM_V63.csv")
    acts = _json(NOMENSLAND / "ccam_actes.json.gz")
    tree = _json(NOMENSLAND / "ccam_hierarchie_actes.json.gz")
    expected_acts = {r["CAM_PRS_IDE_COD"].split()[0] for r in v63} | {r["code"] for r in acts}
    expected_acts |= {r["code"] for r in tree if r["type"] == "A"}
    expected_acts = {code for code in expected_acts if ACT.match(code)}
    expected_nodes = {_trim_strate(r["strate"]) for r in tree if r["type"] == "H"} - {"00"}

    ccam = _by_code(batches["CCAM"], "CCAM")
    loaded_acts = {code for code in ccam if ACT.match(code)}
    assert loaded_acts == expected_acts
    assert set(ccam) - loaded_acts == expected_nodes
    assert 8_000 < len({r["CAM_PRS_IDE_COD"] for r in v63}) < 8_300  # primer: ~8,100
    assert all(re.fullmatch(r"\d{2}(\.\d{2}){0,3}", code) for code in expected_nodes)
    assert "NT_09" not in ccam  # a note row of IR_CCAM_V63, not an act
    assert ccam["JANH798"].label.startswith("Destruction de tumeur rénale")  # "JANH798\n[A]"


@pytest.mark.shared_data
@pytest.mark.skipif(not HAVE_SHARED, reason="no shared data")
def test_ccam_acts_sit_under_their_tree_node(batches):
    ccam = _by_code(batches["CCAM"], "CCAM")
    tree = _json(NOMENSLAND / "ccam_hierarchie_actes.json.gz")
    for row in tree:
        if row["type"] == "A":
            assert ccam[row["code"]].parent == _trim_strate(row["strate"]), row
        elif row.get("niveau"):
            assert ccam[_trim_strate(row["strate"])].level == row["niveau"]
    chapter = next(r for r in tree if r["strate"] == "04.00.00.00")
    assert "CIRCULATOIRE" in chapter["libelle"]  # chapter 04 is the cardiovascular one
    angioplasties = [code for code in ccam if code.startswith("DDAF")]
    assert len(angioplasties) >= 5
    for code in angioplasties:
        assert _ancestors(ccam, code)[-1] == "04", code
        assert ccam[code].level == 5
    assert ccam["04"].label == chapter["libelle"] and ccam["04"].level == 1


@pytest.mark.shared_data
@pytest.mark.skipif(not HAVE_SHARED, reason="no shared data")
def test_ccam_labels_dates_and_short_labels(batches):
    batch = batches["CCAM"]
    ccam = _by_code(batch, "CCAM")
    acts = _json(NOMENSLAND / "ccam_actes.json.gz")
    for row in acts:
        concept = ccam[row["code"]]
        assert concept.label == " ".join(row["libelle_long"].split())
        assert concept.valid_from == date.fromisoformat(row["date_debut"])
        assert concept.valid_to == (
            date.fromisoformat(row["date_fin"]) if row.get("date_fin") else None
        )
    assert ccam["AANL001"].valid_to == date(2010, 5, 1)
    short = {(s.code, s.text) for s in batch.synonyms if s.kind == "short_label"}
    assert ("AAFA001", "exérèse T. intraparench cervelet craniot.") in short


def _write_csv(path: Path, header: str, *lines: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def _write_json(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump(records, handle)
    return path


def _ccam_folder(root: Path) -> Path:
    _write_csv(
        root / "schema-snds/nomenclatures/ATIH/IR_CCAM_V63.csv",
        '"CAM_PRS_IDE_COD";"CAM_PRS_IDE_LIB";"CAM_PRS_RGT"',
        '"DDAF001";"Dilatation coronaire";"ADC"',
        '"JANH798\n[A]";"Destruction de tumeur rénale";"ATM"',
        '"NT_09";"À l\'exclusion de : …";"NA"',
    )
    node = {"type": "H", "niveau_1": "04"}
    _write_json(
        root / "nomensland/ccam_hierarchie_actes.json.gz",
        [
            {**node, "strate": "00.00.00.00", "code": "000001", "parent": "000000",
             "libelle": "ARBORESCENCE CCAM"},
            {**node, "strate": "04.00.00.00", "code": "000002", "parent": "000001",
             "libelle": "APPAREIL CIRCULATOIRE"},
            {**node, "strate": "04.02.00.00", "code": "000003", "parent": "000002",
             "libelle": "CŒUR"},
            {"type": "A", "strate": "04.02.00.00", "code": "DDAF001", "parent": "000003",
             "libelle": "Dilatation"},
        ],
    )  # fmt: skip
    return root


def test_ccam_tree_from_a_hand_written_folder(tmp_path):
    batch = load_ccam(_ccam_folder(tmp_path))
    ccam = _by_code(batch, "CCAM")
    assert set(ccam) == {"04", "04.02", "DDAF001", "JANH798"}
    assert (ccam["04"].parent, ccam["04"].level) == (None, 1)
    assert (ccam["04.02"].parent, ccam["04.02"].level) == ("04", 2)
    assert (ccam["DDAF001"].parent, ccam["DDAF001"].level) == ("04.02", 3)
    assert (ccam["JANH798"].parent, ccam["JANH798"].level) == (None, None)  # not in the tree
    assert ccam["DDAF001"].label == "Dilatation coronaire"  # IR_CCAM_V63 beats the tree
    assert "IR_CCAM_V63" in batch.versions["CCAM"]


def test_ccam_missing_column_names_file_line_and_field(tmp_path):
    path = _write_csv(
        tmp_path / "schema-snds/nomenclatures/ATIH/IR_CCAM_V63.csv",
        "CAM_PRS_IDE_COD;CAM_PRS_RGT",
        "DDAF001;ADC",
    )
    with pytest.raises(SndskitError) as error:
        load_ccam(tmp_path)
    assert (error.value.file, error.value.line, error.value.field) == (
        str(path),
        1,
        "CAM_PRS_IDE_LIB",
    )
    assert "CAM_PRS_RGT" in error.value.allowed


def test_ccam_unreadable_date_names_the_record(tmp_path):
    good = {"code": "AAFA001", "libelle_long": "Exérèse", "date_debut": "2005-03-01"}
    path = _write_json(
        tmp_path / "nomensland/ccam_actes.json.gz",
        [good, {**good, "code": "AAFA002", "date_fin": "2010-13-45"}],
    )
    with pytest.raises(SndskitError) as error:
        load_ccam(tmp_path)
    assert (error.value.file, error.value.line, error.value.field) == (str(path), 2, "date_fin")


def test_ccam_act_on_an_unknown_node_is_an_error(tmp_path):
    path = _write_json(
        tmp_path / "nomensland/ccam_hierarchie_actes.json.gz",
        [{"type": "A", "strate": "04.02.00.00", "code": "DDAF001", "parent": "000009"}],
    )
    with pytest.raises(SndskitError) as error:
        load_ccam(tmp_path)
    assert (error.value.file, error.value.line, error.value.field) == (str(path), 1, "parent")


# --- NABM -------------------------------------------------------------------------------

BIO_HEADER = (
    "BIO_PRS_IDE;BIO_INF_LIB;BIO_CRE_DAT;BIO_SUP_DAT;BIO_ARB_CHA;BIO_ARB_SC1;BIO_ARB_SC2;"
    "BIO_ARB_SC3;BIO_ARB_SC4"
)


@pytest.mark.shared_data
@pytest.mark.skipif(not HAVE_SHARED, reason="no shared data")
def test_nabm_codes_tree_and_dates(batches):
    rows = _csv_rows(NOMENCLATURES / "ORAREF" / "IR_BIO_R.csv")
    nabm = _by_code(batches["NABM"], "NABM")
    acts = {code for code in nabm if re.fullmatch(r"\d{4}", code)}
    assert len(acts) == len(rows) == 1_076  # primer §5
    assert set(nabm) - acts == {code for code in nabm if re.fullmatch(r"\d{2}(\.\d{2})*", code)}, (
        "tree nodes are dotted 2-digit numbers"
    )
    for row in rows:
        code = row["BIO_PRS_IDE"].zfill(4)
        chapter, sub = int(row["BIO_ARB_CHA"] or 0), int(row["BIO_ARB_SC1"] or 0)
        expected = None if chapter == 0 else f"{chapter:02d}" + (f".{sub:02d}" if sub else "")
        assert nabm[code].parent == expected, row
        assert nabm[code].label == " ".join(row["BIO_INF_LIB"].split())
    assert nabm["0215"].parent == "06.01"  # leading zero kept: BIO_PRS_IDE 215
    assert nabm["1245"].valid_from == date(2005, 9, 20)
    assert nabm["1245"].valid_to == date(2014, 9, 4)
    assert nabm["06"].level == 1 and nabm["06.01"].level == 2 and nabm["0215"].level == 3


def test_nabm_from_a_hand_written_file(tmp_path):
    _write_csv(
        tmp_path / "schema-snds/nomenclatures/ORAREF/IR_BIO_R.csv",
        BIO_HEADER,
        "7;ACTE SEPT;01JAN1996:00:00:00;;7;6;0;0;0",
        "1234;ACTE;01JAN1996:00:00:00;04SEP2014:00:00:00;13;0;0;0;0",
        "9001;SUPPLEMENT;01JAN1996:00:00:00;;0;0;0;0;0",
    )
    nabm = _by_code(load_biology(tmp_path), "NABM")
    assert set(nabm) == {"0007", "1234", "9001", "07", "07.06", "13"}
    assert (nabm["0007"].parent, nabm["0007"].level) == ("07.06", 3)
    assert (nabm["1234"].parent, nabm["1234"].level) == ("13", 2)
    assert (nabm["9001"].parent, nabm["9001"].level) == (None, None)
    assert nabm["1234"].valid_to == date(2014, 9, 4)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("1234;ACTE;31FOO2014:00:00:00;;13;0;0;0;0", "BIO_CRE_DAT"),
        ("1234;ACTE;01JAN1996:00:00:00;2014-02-30;13;0;0;0;0", "BIO_SUP_DAT"),
        ("12A4;ACTE;01JAN1996:00:00:00;;13;0;0;0;0", "BIO_PRS_IDE"),
        ("1234;ACTE;01JAN1996:00:00:00;;13;x;0;0;0", "BIO_ARB_SC1"),
    ],
)
def test_nabm_malformed_rows_are_located(tmp_path, line, field):
    path = _write_csv(
        tmp_path / "schema-snds/nomenclatures/ORAREF/IR_BIO_R.csv",
        BIO_HEADER,
        "1;OK;01JAN1996:00:00:00;;1;0;0;0;0",
        line,
    )
    with pytest.raises(SndskitError) as error:
        load_biology(tmp_path)
    assert (error.value.file, error.value.line, error.value.field) == (str(path), 3, field)


# --- LPP --------------------------------------------------------------------------------

LPP_TREE = ["LPP_ARB_CHA", *(f"LPP_ARB_SC{i}" for i in range(1, 10))]
LPP_HEADER = ";".join(["LPP_PRS_IDE", "LPP_RED_LIB", "LPP_VAL_DTF", *LPP_TREE])


@pytest.mark.shared_data
@pytest.mark.skipif(not HAVE_SHARED, reason="no shared data")
def test_lpp_codes_tree_and_short_names(batches):
    rows = _csv_rows(NOMENCLATURES / "ORAREF" / "NT_LPP.csv")
    fiche = {r["code_tips"]: r for r in _json(NOMENSLAND / "lpp_fiche.json.gz")}
    batch = batches["LPP"]
    lpp = _by_code(batch, "LPP")
    products = {code for code in lpp if re.fullmatch(r"\d{7}", code)}
    assert len(products) == len(rows) == 19_717  # primer §5
    for row in rows:
        numbers = []
        for column in LPP_TREE:
            if row[column] in ("", "0"):
                break
            numbers.append(row[column])
        assert lpp[row["LPP_PRS_IDE"]].parent == (".".join(numbers) or None), row
    nodes = set(lpp) - products
    assert all(re.fullmatch(r"[1-9]\d*(\.[1-9]\d*)*", code) for code in nodes)
    assert lpp["1"].label.startswith("TITRE 1")
    assert lpp["1100040"].parent == "1.5" and lpp["1100040"].level == 3
    for synonym in batch.synonyms:
        assert synonym.kind == "short_label"
        assert synonym.text == " ".join(fiche[synonym.code]["nom_court"].split())
    assert not any("\ufffd" in lpp[code].label for code in fiche)


def test_lpp_from_a_hand_written_folder(tmp_path):
    zeros = ";0" * 7
    _write_csv(
        tmp_path / "schema-snds/nomenclatures/ORAREF/NT_LPP.csv",
        LPP_HEADER,
        f"1100001;POCHE A;;1;1;4{zeros}",
        f"1100002;POCHE B;01JAN2020:00:00:00;1;1;4{zeros}",
        f"1100003;POCHE C;;1;1;4{zeros}",
        f"1100004;PREST\ufffd HEBD.;;1;2;0{zeros}",
        "1100005;SANS ARBO;;;;;;;;;;;",
    )
    title = {"lib_arbo1": "TITRE 1", "lib_arbo2": "CHAPITRE 1"}
    _write_json(
        tmp_path / "nomensland/lpp_fiche.json.gz",
        [
            {"code_tips": "1100001", "nom_court": "POCHE A, BOITE", "arbo1": "1", "arbo2": "1",
             "arbo3": "4", **title, "lib_arbo3": "POCHES"},
            {"code_tips": "1100002", "nom_court": "POCHE B", "arbo1": "1", "arbo2": "1",
             "arbo3": "4", **title, "lib_arbo3": "POCHES"},
            {"code_tips": "1100004", "nom_court": "PREST° HEBD.", "arbo1": "1", "arbo2": "2",
             "lib_arbo1": "TITRE 1", "lib_arbo2": "AUTRE"},
        ],
    )  # fmt: skip
    batch = load_devices(tmp_path)
    lpp = _by_code(batch, "LPP")
    assert set(lpp) == {"1", "1.1", "1.1.4", "1.2", *(f"110000{i}" for i in range(1, 6))}
    assert (lpp["1.1.4"].label, lpp["1.1.4"].parent, lpp["1.1.4"].level) == ("POCHES", "1.1", 3)
    assert lpp["1.2"].label == "AUTRE"
    assert (lpp["1100003"].parent, lpp["1100003"].level) == ("1.1.4", 4)
    assert (lpp["1100005"].parent, lpp["1100005"].level) == (None, None)
    assert lpp["1100004"].label == "PREST° HEBD."  # broken character replaced
    assert lpp["1100002"].valid_to == date(2020, 1, 1)
    assert [(s.code, s.text) for s in batch.synonyms] == [("1100001", "POCHE A, BOITE")]


def test_lpp_node_title_needs_a_majority(tmp_path):
    zeros = ";0" * 8
    _write_csv(
        tmp_path / "schema-snds/nomenclatures/ORAREF/NT_LPP.csv",
        LPP_HEADER,
        f"1100001;A;;2;7{zeros}",
        f"1100002;B;;2;7{zeros}",
    )
    _write_json(
        tmp_path / "nomensland/lpp_fiche.json.gz",
        [
            {"code_tips": "1100001", "arbo1": "2", "arbo2": "7", "lib_arbo2": "PROTHESES"},
            {"code_tips": "1100002", "arbo1": "2", "arbo2": "3", "lib_arbo2": "ADJONCTIONS"},
        ],
    )
    lpp = _by_code(load_devices(tmp_path), "LPP")
    assert lpp["2.7"].label == "LPP 2.7"  # one vote each: no title rather than a wrong one


def test_lpp_missing_tree_column_is_located(tmp_path):
    path = _write_csv(
        tmp_path / "schema-snds/nomenclatures/ORAREF/NT_LPP.csv",
        LPP_HEADER.replace(";LPP_ARB_SC3", ""),
        "1100001;A;;1;1;4;0;0;0;0;0;0",
    )
    with pytest.raises(SndskitError) as error:
        load_devices(tmp_path)
    assert (error.value.file, error.value.line, error.value.field) == (
        str(path),
        1,
        "LPP_ARB_SC3",
    )


def test_lpp_bad_end_date_is_located(tmp_path):
    path = _write_csv(
        tmp_path / "schema-snds/nomenclatures/ORAREF/NT_LPP.csv",
        LPP_HEADER,
        "1100001;A;;1;0;0;0;0;0;0;0;0;0",
        "1100002;B;2020/01/01;1;0;0;0;0;0;0;0;0;0",
    )
    with pytest.raises(SndskitError) as error:
        load_devices(tmp_path)
    assert (error.value.file, error.value.line, error.value.field) == (str(path), 3, "LPP_VAL_DTF")


# --- GHM / CMD --------------------------------------------------------------------------


def _descendants_of_cmd(batch: TerminologyBatch, cmd: str) -> set[str]:
    """What a hierarchy walker sees: GHM_IN_CMD relations, then parents inside GHM."""
    children = defaultdict(set)
    for concept in batch.concepts:
        if concept.vocabulary == "GHM" and concept.parent:
            children[concept.parent].add(concept.code)
    found = {r.code_1 for r in batch.relations if r.relation == "GHM_IN_CMD" and r.code_2 == cmd}
    todo = list(found)
    while todo:
        for child in children[todo.pop()]:
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


@pytest.mark.shared_data
@pytest.mark.skipif(not HAVE_SHARED, reason="no shared data")
def test_ghm_codes_labels_and_years(batches):
    records = _json(NOMENSLAND / "ghm_ghm_regroupement.json.gz")
    by_ghm: dict[str, dict[int, str]] = defaultdict(dict)
    for row in records:
        by_ghm[row["ghm"]][int(row["anseqta"])] = row["libelle_ghm"]
    last_year = max(max(years) for years in by_ghm.values())
    ghm = _by_code(batches["GHM"], "GHM")
    assert {code for code in ghm if len(code) == 6} == set(by_ghm)
    assert {code for code in ghm if len(code) == 5} == {code[:5] for code in by_ghm}
    for code, years in by_ghm.items():
        assert ghm[code].label == " ".join(years[max(years)].split())
        assert ghm[code].parent == code[:5] and ghm[code].level == 2
        ended = max(years) < last_year
        assert ghm[code].valid_to == (date(max(years), 12, 31) if ended else None)
    assert ghm["05M09"].label == "Insuffisances cardiaques et états de choc circulatoire"
    assert ghm["05M09"].level == 1 and ghm["05M09"].parent is None


@pytest.mark.shared_data
@pytest.mark.skipif(not HAVE_SHARED, reason="no shared data")
def test_cmd_of_a_ghm_and_cmd_titles(batches):
    batch = batches["GHM"]
    cmd = _by_code(batch, "CMD")
    titles = {
        int(r["GHS_CMD"]): r["CMD_LIB"]
        for r in _csv_rows(NOMENCLATURES / "ORAVAL" / "IR_CMD_V.csv")
    }
    assert cmd["05"].label == titles[5] == "Affections de l'appareil circulatoire"
    assert "00" not in cmd and "99" not in cmd  # "Sans objet", "Valeur inconnue"
    links = defaultdict(set)
    for relation in batch.relations:
        assert relation.relation == "GHM_IN_CMD" and relation.inferred
        links[relation.code_1].add(relation.code_2)
    assert links["05M09"] == {"05"}  # primer: CMD = first 2 characters of the GHM
    ghm = _by_code(batch, "GHM")
    assert set(links) == set(ghm)
    assert all(targets == {code[:2]} for code, targets in links.items())
    under_05 = _descendants_of_cmd(batch, "05")
    assert {"05M09", "05M091", "05M094"} <= under_05
    assert under_05 == {code for code in ghm if code.startswith("05")}


def test_ghm_from_a_hand_written_folder(tmp_path):
    _write_json(
        tmp_path / "nomensland/ghm_ghm_regroupement.json.gz",
        [
            {"ghm": "05M091", "libelle_ghm": "Insuffisances cardiaques, niv 1", "anseqta": "2012"},
            {"ghm": "05M091", "libelle_ghm": "Insuffisances cardiaques, niveau 1",
             "anseqta": "2013"},
            {"ghm": "05M092", "libelle_ghm": "Insuffisances cardiaques, niveau 2",
             "anseqta": "2012"},
            {"ghm": "05M09T", "libelle_ghm": "Insuffisances, très courte durée",
             "anseqta": "2013"},
            {"ghm": "07C011", "libelle_ghm": "Interventions, niveau 1", "anseqta": "2013"},
        ],
    )  # fmt: skip
    _write_csv(
        tmp_path / "schema-snds/nomenclatures/ORAVAL/IR_CMD_V.csv",
        "GHS_CMD;CMD_LIB;TEC_COL",
        "99;Valeur inconnue;1",
        "0;Sans objet;0",
        "5;Affections de l'appareil circulatoire;0",
        "90;Erreurs et autres séjours inclassables;2",
    )
    batch = load_ghm(tmp_path)
    ghm, cmd = _by_code(batch, "GHM"), _by_code(batch, "CMD")
    assert ghm["05M091"].label == "Insuffisances cardiaques, niveau 1"  # latest year
    assert ghm["05M092"].valid_to == date(2012, 12, 31)  # gone in 2013
    assert ghm["05M09T"].valid_from == date(2013, 1, 1)  # new in 2013
    assert ghm["05M091"].valid_from is None and ghm["05M091"].valid_to is None
    assert ghm["05M09"].label == "Insuffisances cardiaques"  # shared by levels 1–2
    assert ghm["07C01"].label == "Interventions"
    assert set(cmd) == {"05", "07", "90"}
    assert cmd["07"].label == "CMD 07"  # no title in IR_CMD_V: not made up
    assert cmd["90"].label.startswith("Erreurs")


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"ghm": "05M091", "libelle_ghm": "x", "anseqta": "20x3"}, "anseqta"),
        ({"ghm": "5M091", "libelle_ghm": "x", "anseqta": "2013"}, "ghm"),
        ({"ghm": "05M091", "anseqta": "2013"}, "libelle_ghm"),
    ],
)
def test_ghm_malformed_records_are_located(tmp_path, record, field):
    good = {"ghm": "05M092", "libelle_ghm": "ok", "anseqta": "2013"}
    path = _write_json(tmp_path / "nomensland/ghm_ghm_regroupement.json.gz", [good, record])
    with pytest.raises(SndskitError) as error:
        load_ghm(tmp_path)
    assert (error.value.file, error.value.line, error.value.field) == (str(path), 2, field)
