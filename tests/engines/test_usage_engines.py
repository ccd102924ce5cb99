"""Code-list usage and orphans through the engine contract: the planted counts of
``tests/codelists/test_diagnostics.py`` on DuckDB and Spark alike."""

from __future__ import annotations

import pytest

from sndskit.codelists.diagnostics import find_orphans, summarise_usage
from tests.codelists.test_diagnostics import codelist, data  # noqa: F401 (fixtures)

pytestmark = pytest.mark.shared_data


def test_usage_and_orphans_give_the_planted_counts_on_each_engine(data, codelist, engine):  # noqa: F811
    folder, store, box = data
    rows = {
        (r["code"], r["year"]): (r["records"], r["persons"])
        for r in summarise_usage(
            codelist, folder, threshold=1, unsafe_threshold=True, engine=engine
        )
    }
    assert rows == {
        (box, 2019): (13, 12),  # person p0 under two pseudonyms: 13 dispensings, 12 persons
        (box, 2020): (4, 4),
        ("E11", 2019): (15, 15),
        ("E11", 2020): (3, 3),
    }
    orphans = find_orphans(
        codelist, folder, store=store, threshold=1, unsafe_threshold=True, engine=engine
    )
    assert [(o["code"], o["persons"]) for o in orphans] == [("E13", 20)]
