"""Fixtures of the web tests: an app on the sample store, small synthetic SNDS data whose
truth is known by design, saved code lists, and a client that speaks CSRF."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sndskit.codelists.export import import_codelist
from sndskit.codelists.model import save_codelist
from sndskit.config import store_path
from tests.cohorts.builder import DRUG, OTHER_DRUG, SndsBuilder

pytest.importorskip("fastapi")

# The synthetic study population (see ``synth_data``), the truth every page is checked on.
TREATED_ADULTS = 25  # 3 dispensings of DRUG on distinct dates in 2019, born 1960
TWO_DISPENSINGS = 5  # only 2 dispensings of DRUG → no entry
TREATED_MINORS = 4  # 3 dispensings, born 2010 → excluded by age
OTHER_DRUG_ONLY = 7  # 3 dispensings of OTHER_DRUG → never an entry event


@pytest.fixture(scope="session")
def synth_data(tmp_path_factory) -> Path:
    """Persons and dispensings built row by row; the counts above are true by design."""
    builder = SndsBuilder()
    person = 0
    groups = [
        (TREATED_ADULTS, 1960, DRUG, 3),
        (TWO_DISPENSINGS, 1960, DRUG, 2),
        (TREATED_MINORS, 2010, DRUG, 3),
        (OTHER_DRUG_ONLY, 1960, OTHER_DRUG, 3),
    ]
    for size, birth_year, code, n in groups:
        for _ in range(size):
            person += 1
            builder.person(person, birth_year=birth_year)
            for k in range(n):
                builder.dispensing(person, date(2019, 3 + k, 10), code=code)
    builder.stay(999, date(2019, 6, 1), dp="Z000")  # a PMSI year exists; 999 is nobody
    return builder.write(tmp_path_factory.mktemp("synth") / "data")


def save_test_codelists(folder: Path) -> None:
    """``drugs`` (DRUG as CIP13 and CIP7) and ``other`` (OTHER_DRUG), frozen as JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "drugs.csv").write_text(f"vocabulary,code\nCIP13,{DRUG}\nCIP7,{DRUG[5:12]}\n")
    (folder / "other.csv").write_text(f"vocabulary,code\nCIP13,{OTHER_DRUG}\n")
    for name in ("drugs", "other"):
        save_codelist(import_codelist(folder / f"{name}.csv", name=name), folder / f"{name}.json")
        (folder / f"{name}.csv").unlink()


@pytest.fixture()
def settings(sample_home, synth_data, tmp_path):
    from sndskit.web import WebSettings

    workspace = tmp_path / "workspace"
    save_test_codelists(workspace / "codelists")
    return WebSettings(
        store=store_path(sample_home), workspace=workspace, data_dirs={"synth": synth_data}
    )


class CsrfClient:
    """A TestClient whose POSTs send the CSRF cookie back, as the pages' htmx does."""

    def __init__(self, app, **kwargs) -> None:
        from fastapi.testclient import TestClient

        self.client = TestClient(app, base_url="http://127.0.0.1", **kwargs)
        self.client.get("/")  # receive the CSRF cookie

    def __getattr__(self, name):
        return getattr(self.client, name)

    def post(self, url, *, htmx: bool = True, **kwargs):
        headers = {"X-CSRF-Token": self.client.cookies["sndskit_csrf"], **kwargs.pop("headers", {})}
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.post(url, headers=headers, **kwargs)


@pytest.fixture()
def client(settings):
    from sndskit.web import create_app

    return CsrfClient(create_app(settings))
