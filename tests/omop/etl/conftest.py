"""One small synthetic SNDS (2,000 persons, 2018-2020) converted once per engine.

The mappings are a hand-made set over codes of the data: two CIM-10 codes to standard
conditions of the OHDSI vocabulary extract (one of them to two targets), one CIM-10 code to a
non-standard concept (dropped), one CIP13 code to a standard drug. Source concept ids are
assigned by :func:`sndskit.omop.source_concepts.assign_ids` over the store's codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from sndskit.config import store_path
from sndskit.engines.datasource import DataFolder, open_data
from sndskit.omop.etl.codemap import build_code_map, pack_sizes, standard_targets
from sndskit.omop.etl.runner import EtlOptions, run_etl
from sndskit.omop.mappings import Mapping, MappingStatus
from sndskit.omop.source_concepts import assign_ids
from sndskit.omop.vocabulary import connect_vocabulary

pytestmark = pytest.mark.shared_data
VOCABULARIES = ("CIM10", "CCAM", "NABM", "CIP13", "UCD", "SPE")


@dataclass
class Converted:
    data: Path
    out: Path
    store: Path
    source_ids: dict[tuple[str, str], int]
    targets: dict[tuple[str, str], set[int]]
    dropped: int
    manifest: dict

    def table(self, name: str) -> list[dict]:
        return pq.read_table(self.out / f"{name}.parquet").to_pylist()

    def truth(self, name: str) -> list[dict]:
        return pq.read_table(self.data / "truth" / name).to_pylist()

    def raw(self, name: str):
        return pq.read_table(self.data / name)


@pytest.fixture(scope="session")
def etl_data(real_home, tmp_path_factory) -> Path:
    from sndskit.synthetic import build_config, generate

    out = tmp_path_factory.mktemp("etl") / "data"
    config = build_config(
        {
            "patients": 2000,
            "start_year": 2018,
            "end_year": 2020,
            "seed": 11,
            "chunk_size": 1000,
            "part_size": 2000,
        }
    )
    generate(config, out, store=store_path(real_home), workers=1)
    return out


def _frequent_codes(data: Path) -> list[str]:
    con = duckdb.connect()
    path = str(data / "T_MCO*B" / "*.parquet")
    rows = con.execute(
        "SELECT DGN_PAL, count(*) FROM read_parquet(?) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3",
        [path],
    ).fetchall()
    cip = con.execute(
        "SELECT PHA_PRS_C13 FROM read_parquet(?) GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        [str(data / "ER_PHA_F" / "*.parquet")],
    ).fetchone()[0]
    return [r[0] for r in rows] + [cip]


def _concepts(vocab_db: Path) -> dict[str, list[int]]:
    con = connect_vocabulary(vocab_db)
    try:
        out = {}
        for key, where in (
            ("condition", "domain_id = 'Condition' AND standard_concept = 'S'"),
            ("drug", "domain_id = 'Drug' AND standard_concept = 'S'"),
            ("non_standard", "domain_id = 'Condition' AND standard_concept IS NULL"),
        ):
            sql = f"SELECT concept_id FROM concept WHERE {where} ORDER BY concept_id LIMIT 2"
            out[key] = [r[0] for r in con.execute(sql).fetchall()]
        return out
    finally:
        con.close()


@pytest.fixture(scope="session")
def etl_mappings(etl_data, vocab_db) -> list[Mapping]:
    dp1, dp2, dp3, cip = _frequent_codes(etl_data)
    concepts = _concepts(vocab_db)
    rows = [
        ("CIM10", dp1, concepts["condition"][0]),
        ("CIM10", dp2, concepts["condition"][0]),
        ("CIM10", dp2, concepts["condition"][1]),
        ("CIM10", dp3, concepts["non_standard"][0]),
        ("CIP13", cip, concepts["drug"][0]),
    ]
    return [
        Mapping(
            source_vocabulary=v, source_code=c, target_concept_id=t, status=MappingStatus.APPROVED
        )
        for v, c, t in rows
    ]


def _source_ids(store: Path) -> dict[tuple[str, str], int]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        keys = con.execute(
            "SELECT vocabulary, code FROM concepts WHERE list_contains(?, vocabulary)",
            [list(VOCABULARIES)],
        ).fetchall()
    finally:
        con.close()
    return assign_ids([tuple(k) for k in keys])


def convert(
    etl_data, real_home, vocab_db, mappings, out: Path, data_opener=False, **engine
) -> Converted:
    store = store_path(real_home)
    ids = _source_ids(store)
    con = connect_vocabulary(vocab_db)
    try:
        targets, dropped = standard_targets(mappings, con)
    finally:
        con.close()
    code_map = build_code_map(targets, ids, pack_sizes(store))
    options = EtlOptions(release_date="2026-12-01", vocabulary_version="test extract")
    manifest = run_etl(
        (open_data if data_opener else DataFolder)(etl_data),
        out,
        code_map=code_map,
        options=options,
        vocab_db=vocab_db,
        **engine,
    )
    return Converted(etl_data, out, store, ids, targets, dropped, manifest)


@pytest.fixture(scope="session")
def converted(etl_data, real_home, vocab_db, etl_mappings, tmp_path_factory) -> Converted:
    out = tmp_path_factory.mktemp("cdm") / "duckdb"
    return convert(etl_data, real_home, vocab_db, etl_mappings, out)
