"""The traps of the treated-diabetes rule on a hand-built dataset whose answer is known by
design: 2 dispensings suffice only when one is a large pack, on distinct dates within a year.
"""

from __future__ import annotations

from datetime import date

import pyarrow.parquet as pq

from sndskit.algorithms import get_algorithm, run_algorithm
from sndskit.engines.datasource import DataFolder
from tests.cohorts.builder import SndsBuilder


def test_large_pack_rule_and_its_traps(tmp_path):
    algorithm = get_algorithm("t2d_treated")
    large = set(algorithm.codelists["codelists/t2d_large_packs.json"].codes("CIP13"))
    small = sorted(set(algorithm.codelists["codelists/t2d_drugs.json"].codes("CIP13")) - large)
    big = sorted(large)[0]
    b = SndsBuilder()
    for person in range(1, 8):
        b.person(person)
    for day in (date(2021, 2, 1), date(2021, 5, 1), date(2021, 8, 1)):
        b.dispensing(1, day, code=small[0])  # three small boxes: in
    b.dispensing(2, date(2021, 3, 1), code=small[0])
    b.dispensing(2, date(2021, 9, 1), code=big)  # small + large pack: in
    b.dispensing(3, date(2021, 3, 1), code=small[0])
    b.dispensing(3, date(2021, 9, 1), code=small[1])  # two small boxes: out
    b.dispensing(4, date(2021, 6, 1), code=big)  # one large pack alone: out
    b.dispensing(5, date(2021, 6, 1), code=big)
    b.dispensing(5, date(2021, 6, 1), code=small[0])  # same day: not two dates, out
    b.dispensing(6, date(2020, 2, 1), code=small[0])
    b.dispensing(6, date(2021, 1, 15), code=big)  # earlier small box within a year: in
    b.dispensing(7, date(2019, 6, 1), code=small[0])
    b.dispensing(7, date(2021, 7, 1), code=big)  # earlier box more than a year before: out
    data = b.write(tmp_path / "data")
    run = run_algorithm(
        algorithm, DataFolder(data), tmp_path / "out", threshold=1, unsafe_threshold=True
    )
    assert set(run.persons) == {"P000001", "P000002", "P000006"}
    assert run.persons["P000002"]["cohorts"] == {"large_pack.yaml"}
    assert run.persons["P000006"]["index_date"] == date(2021, 1, 15)
    table = pq.read_table(tmp_path / "out" / "private" / "persons.parquet").to_pylist()
    assert [r["person_id"] for r in table] == ["P000001", "P000002", "P000006"]
