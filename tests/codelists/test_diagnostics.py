"""Usage and orphan diagnostics on a small SNDS-shaped folder built here with known counts."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sndskit.codelists.diagnostics import find_orphans, summarise_usage
from sndskit.codelists.resolve import build_codelist
from sndskit.codelists.spec import CodelistSpec
from sndskit.config import store_path
from sndskit.engines.datasource import DataFolder
from sndskit.errors import SndskitError
from sndskit.specs import parse_spec

pytestmark = pytest.mark.shared_data

FLUX = {
    "FLX_DIS_DTD": "2019-02-01",
    "FLX_TRT_DTD": "2019-02-01",
    "FLX_EMT_TYP": 1,
    "FLX_EMT_NUM": 1,
    "FLX_EMT_ORD": 0,
    "ORG_CLE_NUM": "01C731220",
    "REM_TYP_AFF": 0,
}

SPEC = """
name: t2d
description: test
vocabularies: [CIM10, CIP13]
rules:
  - {id: e11, vocabulary: CIM10, codes: [E11], include_descendants: false}
  - {id: box, vocabulary: CIP13, codes: ["BOX"]}
"""


def _write(folder, name, rows):
    pq.write_table(pa.Table.from_pylist(rows), folder / f"{name}.parquet")


@pytest.fixture(scope="module")
def data(tmp_path_factory, real_home):
    """Persons p0…: 15 with E11 as DP in 2019, 3 with E11 in 2020, 20 with E13 (orphan:
    same parent E10-E14) and 30 with I21 (unrelated) in 2019; box dispensed to 12 persons in
    2019 and 4 in 2020. Person p0 has two pseudonyms (one person for BEN_IDT_ANO)."""
    folder = tmp_path_factory.mktemp("snds")
    store = store_path(real_home)
    from sndskit.terminology.search import search_index

    box = search_index(store).concept_rows(
        [search_index(store).concept_id("CIP13", _a_box(store))]
    )[0]["code"]
    ben = [
        {"BEN_NIR_PSA": f"N{i:016d}", "BEN_RNG_GEM": 1, "BEN_IDT_ANO": f"P{i}"} for i in range(100)
    ]
    ben.append({"BEN_NIR_PSA": "N9999999999999999", "BEN_RNG_GEM": 1, "BEN_IDT_ANO": "P0"})
    _write(folder, "IR_BEN_R", ben)
    stays = {2019: [("E11", 0, 15), ("E13", 15, 35), ("I21", 35, 65)], 2020: [("E11", 65, 68)]}
    for year, groups in stays.items():
        b, c = [], []
        for code, start, end in groups:
            for i in range(start, end):
                rsa = f"{len(b):06d}"
                b.append({"ETA_NUM": "750000001", "RSA_NUM": rsa, "DGN_PAL": code, "DGN_REL": None})
                c.append(
                    {
                        "ETA_NUM": "750000001",
                        "RSA_NUM": rsa,
                        "NIR_ANO_17": f"N{i:016d}",
                        "EXE_SOI_DTD": f"{year}-03-01",
                    }
                )
        _write(folder, f"T_MCO{year % 100:02d}B", b)
        _write(folder, f"T_MCO{year % 100:02d}C", c)
    prs, pha = [], []
    dispensings = [(f"N{i:016d}", "2019-05-10") for i in range(12)]
    dispensings += [("N9999999999999999", "2019-06-10")]  # p0 again, under another pseudonym
    dispensings += [(f"N{i:016d}", "2020-05-10") for i in range(20, 24)]
    for n, (nir, day) in enumerate(dispensings):
        keys = {**FLUX, "DCT_ORD_NUM": n, "PRS_ORD_NUM": 1}
        prs.append({**keys, "BEN_NIR_PSA": nir, "BEN_RNG_GEM": 1, "EXE_SOI_DTD": day})
        pha.append({**keys, "PHA_PRS_C13": box, "PHA_ACT_QSN": 1})
    _write(folder, "ER_PRS_F", prs)
    _write(folder, "ER_PHA_F", pha)
    return DataFolder(folder), store, box


def _a_box(store):
    from sndskit.terminology.search import store_connection

    return (
        store_connection(store)
        .execute("SELECT min(code) FROM concepts WHERE vocabulary = 'CIP13'")
        .fetchone()[0]
    )


@pytest.fixture(scope="module")
def codelist(data):
    _, store, box = data
    return build_codelist(parse_spec(SPEC.replace("BOX", box), CodelistSpec), store=store)


def test_usage_counts_persons_not_pseudonyms_and_masks_small_cells(data, codelist):
    folder, _, box = data
    rows = {(r["code"], r["year"]): r for r in summarise_usage(codelist, folder)}
    # 3 persons in 2020: primary; 2019 is then masked too (secondary), since the records of a
    # code add up over its years and one masked year could otherwise be recomputed.
    assert rows[("E11", 2020)]["masked"] is True and rows[("E11", 2020)]["persons"] is None
    assert rows[("E11", 2019)]["masked"] is True and rows[("E11", 2019)]["persons"] is None
    # Box: 13 dispensings to 12 persons in 2019 (p0 twice, two pseudonyms), 4 in 2020.
    assert rows[(box, 2020)]["masked"] is True
    assert rows[(box, 2019)]["masked"] is True and rows[(box, 2019)]["records"] is None


def test_usage_without_masking_gives_the_planted_counts(data, codelist):
    folder, _, box = data
    rows = {
        (r["code"], r["year"]): r
        for r in summarise_usage(codelist, folder, threshold=1, unsafe_threshold=True)
    }
    assert (rows[(box, 2019)]["records"], rows[(box, 2019)]["persons"]) == (13, 12)
    assert (rows[(box, 2020)]["records"], rows[(box, 2020)]["persons"]) == (4, 4)
    assert (rows[("E11", 2019)]["records"], rows[("E11", 2019)]["persons"]) == (15, 15)
    assert rows[("E11", 2020)]["persons"] == 3


def test_orphans_are_close_codes_ranked_by_frequency(data, codelist):
    folder, store, _ = data
    orphans = find_orphans(codelist, folder, store=store)
    codes = [o["code"] for o in orphans]
    assert codes == ["E13"]  # same parent as E11 (E10-E14); I21 is unrelated
    assert orphans[0]["persons"] == 20 and "same parent" in orphans[0]["reason"]


def test_missing_folder_or_tables_are_clear_errors(tmp_path):
    with pytest.raises(SndskitError, match="data folder not found"):
        DataFolder(tmp_path / "nope")
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(SndskitError, match="no SNDS table"):
        DataFolder(tmp_path)
