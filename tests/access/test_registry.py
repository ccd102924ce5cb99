"""The project registry on SQLite and on a real PostgreSQL server: stages and history,
migration from schema r0001, concurrent updates without lost update, exports and imports."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sndskit.access.registry import Registry
from sndskit.access.registry_io import (
    export_registry,
    import_records,
    read_directory_export,
)
from sndskit.access.registry_model import ProjectRecord
from sndskit.errors import SndskitError


def _project(reference="HDH-0001", **extra) -> ProjectRecord:
    return ProjectRecord(
        reference=reference,
        title=f"Étude {reference}",
        route="standard",
        controllers=[
            {"name": "Université A", "type": "university"},
            {"name": "CHU B", "type": "hospital"},
        ],
        purpose="Recherche sur les syndromes coronariens",
        objectives=["Incidence", "Mortalité"],
        components=["DCIR", "PMSI MCO"],
        data_sources=["SNDS"],
        period_start=date(2020, 1, 1),
        period_end=date(2023, 12, 31),
        **extra,
    )


def test_stages_and_history(registry_url):
    registry = Registry(registry_url)
    assert registry.revision() == "r0002"
    registry.add(_project(), by="desk")
    with pytest.raises(SndskitError, match="already exists"):
        registry.add(_project(), by="desk")
    registry.update("HDH-0001", by="alice", set_values={"filed_on": "2025-01-10"})
    updated = registry.update(
        "HDH-0001",
        by="bob",
        set_values={"cesrees_opinion_on": "2025-02-20", "cesrees_outcome": "favourable"},
    )
    assert updated.version == 3
    shown = registry.get("HDH-0001")
    assert (shown.filed_on, shown.cesrees_outcome, shown.version) == (
        date(2025, 1, 10),
        "favourable",
        3,
    )
    history = [
        (h["version"], h["changed_by"], h["field"], h["old_value"], h["new_value"])
        for h in registry.history("HDH-0001")
    ]
    assert history == [
        (1, "desk", "*", None, "created"),
        (2, "alice", "filed_on", None, "2025-01-10"),
        (3, "bob", "cesrees_opinion_on", None, "2025-02-20"),
        (3, "bob", "cesrees_outcome", None, "favourable"),
    ]
    # no change, no new version
    assert registry.update("HDH-0001", by="bob", set_values={"filed_on": "2025-01-10"}).version == 3


def test_bad_updates_are_refused_with_the_field(registry_url):
    registry = Registry(registry_url)
    registry.add(_project(), by="desk")
    with pytest.raises(SndskitError, match=r"unknown project 'HDH-001'.*HDH-0001"):
        registry.get("HDH-001")
    with pytest.raises(SndskitError) as info:
        registry.update("HDH-0001", by="x", set_values={"cesrees_outcome": "maybe"})
    assert info.value.field == "cesrees_outcome"
    with pytest.raises(SndskitError) as info:
        registry.update("HDH-0001", by="x", set_values={"colour": "blue"})
    assert info.value.field == "colour" and "cnil_number" in info.value.allowed
    assert registry.get("HDH-0001").version == 1


def test_migration_from_schema_r0001_keeps_the_projects(registry_url):
    registry = Registry(registry_url, migrate=False)
    registry.migrate("r0001")
    assert registry.revision() == "r0001"
    row = _project().to_row()
    row.pop("medical_domains")
    columns = ", ".join(row)
    with registry.engine.begin() as connection:
        connection.execute(
            sa.text(f"INSERT INTO projects ({columns}) VALUES ({', '.join(':' + c for c in row)})"),
            row,
        )
    registry.migrate()
    assert registry.revision() == "r0002"
    migrated = registry.get("HDH-0001")
    assert migrated == _project().model_copy(update={"version": 1})
    assert [(h["changed_by"], h["field"]) for h in registry.history("HDH-0001")] == [
        ("migration", "*")
    ]
    assert (
        registry.update("HDH-0001", by="a", append={"medical_domains": ["cardiologie"]}).version
        == 2
    )


def test_concurrent_updates_of_one_project_lose_nothing(registry_url):
    Registry(registry_url).add(_project(), by="desk")
    workers, per_worker = 4, 8
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        registry = Registry(registry_url, migrate=False)  # own engine, own connections
        try:
            for i in range(per_worker):
                registry.update(
                    "HDH-0001", by=f"w{worker}", append={"publications": [f"doi:{worker}-{i}"]}
                )
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            registry.engine.dispose()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    final = Registry(registry_url, migrate=False).get("HDH-0001")
    expected = {f"doi:{w}-{i}" for w in range(workers) for i in range(per_worker)}
    assert set(final.publications) == expected and len(final.publications) == len(expected)
    assert final.version == 1 + workers * per_worker
    history = Registry(registry_url, migrate=False).history("HDH-0001")
    assert sorted(h["version"] for h in history) == list(range(1, 2 + workers * per_worker))


def test_a_stale_version_is_refused(registry_url):
    registry = Registry(registry_url)
    registry.add(_project(), by="desk")
    seen = registry.get("HDH-0001").version
    registry.update("HDH-0001", by="alice", set_values={"cnil_number": "DR-2025-001"})
    with pytest.raises(SndskitError, match="changed meanwhile"):
        registry.update(
            "HDH-0001", by="bob", set_values={"cnil_number": "DR-2025-999"}, expected_version=seen
        )
    assert registry.get("HDH-0001").cnil_number == "DR-2025-001"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_export_then_import_gives_the_same_projects(tmp_path, fmt, lang):
    source = Registry(f"sqlite:///{tmp_path / 'a.sqlite'}")
    projects = [
        _project(
            "HDH-0001",
            cesrees_outcome="favourable",
            cnil_number="DR-1",
            publications=["doi:1", "doi:2"],
            population_size=1200,
        ),
        _project("HDH-0002", medical_domains=["diabétologie"], filed_on=date(2025, 3, 1)),
        _project("HDH-0003").model_copy(
            update={"title": '=1+2; "cité", 100 %', "publications": ["a; b", "=SUM(A1)"]}
        ),
    ]
    for p in projects:
        source.add(p, by="desk")
    target = export_registry(source.list_projects(), fmt, tmp_path / f"export.{fmt}", lang)
    records = read_directory_export(target)
    assert [r.model_copy(update={"version": 0}) for r in records] == projects
    if fmt == "xlsx":  # text starting with "=" is stored as text, never run as a formula
        from openpyxl import load_workbook

        sheet = load_workbook(target).worksheets[0]
        assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    copy = Registry(f"sqlite:///{tmp_path / 'b.sqlite'}")
    assert import_records(copy, records, by="import") == {"added": 3, "updated": 0}
    assert import_records(copy, records, by="import") == {"added": 0, "updated": 0}


def test_json_export_has_the_directory_columns(tmp_path):
    import json

    registry = Registry(f"sqlite:///{tmp_path / 'a.sqlite'}")
    registry.add(_project(), by="desk")
    rows = json.loads(
        export_registry(registry.list_projects(), "json", tmp_path / "e.json").read_text(
            encoding="utf-8"
        )
    )
    assert rows[0]["controllers"] == ["Université A", "CHU B"]
    assert rows[0]["controller_types"] == ["university", "hospital"]
    assert rows[0]["components"] == ["DCIR", "PMSI MCO"]


def test_import_reports_every_bad_row_and_imports_nothing(tmp_path):
    import csv

    registry = Registry(f"sqlite:///{tmp_path / 'a.sqlite'}")
    registry.add(_project(), by="desk")
    good = export_registry(registry.list_projects(), "csv", tmp_path / "good.csv")
    with good.open(encoding="utf-8", newline="") as handle:
        header, row = list(csv.reader(handle))
    column = {name: i for i, name in enumerate(header)}

    def variant(reference, **cells):
        out = list(row)
        out[column["Référence"]] = reference
        for name, value in cells.items():
            out[column[name]] = value
        return out

    path = tmp_path / "bad.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [
                header,
                variant("HDH-0004"),
                variant("HDH-0002", **{"Début de la période": "2020-13-01"}),
                variant("HDH-0003", **{"Voie réglementaire": "mr009"}),
            ]
        )
    with pytest.raises(SndskitError) as info:
        read_directory_export(path)
    text = str(info.value)
    assert "2 bad row(s)" in text
    assert f"{path}:3: field 'period_start'" in text and f"{path}:4: field 'route'" in text
    assert [r.reference for r in registry.list_projects()] == ["HDH-0001"]


_TEXT = st.text(
    alphabet=st.characters(
        whitelist_categories=("L", "N", "P", "S", "Zs", "Cc"), blacklist_characters="\x00\r"
    ),
    max_size=40,
)
_WORDS = _TEXT.filter(lambda t: any(c.isprintable() and not c.isspace() for c in t))
_DATES = st.none() | st.dates(date(2000, 1, 1), date(2040, 12, 31))
_RECORDS = st.builds(
    ProjectRecord,
    reference=st.from_regex(r"[A-Z]{2,5}-[0-9]{1,6}", fullmatch=True),
    title=_WORDS,
    route=st.sampled_from(["standard", "mr004", "mr005", "mr006", "mr007", "mr008", "egb_esnd"]),
    controllers=st.lists(
        st.builds(
            dict,
            name=_WORDS,
            type=st.sampled_from(["university", "industry", "hospital"]),
        ),
        min_size=1,
        max_size=3,
    ),
    purpose=_TEXT,
    objectives=st.lists(_WORDS, max_size=3),
    publications=st.lists(_WORDS, max_size=3),
    population_size=st.none() | st.integers(0, 10**8),
    filed_on=_DATES,
    cnil_decision_on=_DATES,
    cesrees_outcome=st.none() | st.sampled_from(["favourable", "unfavourable"]),
    results=_TEXT,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(record=_RECORDS, fmt=st.sampled_from(["csv", "xlsx"]))
def test_any_record_survives_an_export_and_an_import(tmp_path, record, fmt):
    """Separators, quotes, line breaks, leading '=' (never a spreadsheet formula)…"""
    target = export_registry([record], fmt, tmp_path / f"export.{fmt}")
    assert read_directory_export(target) == [record]
