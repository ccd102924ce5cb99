"""The access rules are data: every file is complete in French and English, cites its
source, and agrees with the spec's choices and with the catalogue."""

from __future__ import annotations

from typing import get_args

from sndskit.access.registry_model import ProjectRecord
from sndskit.access.rules import (
    get_checks,
    get_documents,
    get_purposes,
    get_registry_columns,
    get_routes,
    identifier_kinds,
    identifying_columns,
    label,
)
from sndskit.access.spec import IdentifierKind, PurposeCategory, Route


def test_routes_match_the_spec_and_cite_a_source():
    routes = get_routes()
    assert set(routes) == set(get_args(Route))
    for name, route in routes.items():
        assert route["fr"] and route["en"] and route["source"], name
        assert route["potential_identifiers"] in ("allowed", "forbidden")
    assert routes["mr006"]["needs_design_office"] is True
    assert routes["mr007"]["max_access_years"] == 5 and routes["mr007"]["allows_matching"] is False
    assert routes["egb_esnd"]["potential_identifiers"] == "forbidden"


def test_every_check_has_both_languages_and_a_source():
    for name, check in get_checks().items():
        assert check["severity"] in ("error", "warning", "info"), name
        for key in ("fr", "en", "message_fr", "message_en", "source"):
            assert check[key].strip(), (name, key)


def test_every_label_exists_in_french_and_english():
    from importlib import resources

    import yaml

    path = resources.files("sndskit") / "resources" / "access" / "labels.yaml"
    for key in yaml.safe_load(path.read_text(encoding="utf-8")):
        assert label(key, "en") is not None and label(key, "fr") is not None, key


def test_identifier_kinds_and_purposes_match_the_spec():
    kinds = identifier_kinds()
    assert set(kinds) == set(get_args(IdentifierKind))
    assert {row["kind"] for row in identifying_columns().values()} == set(kinds)
    for kind in kinds.values():
        assert kind["fr"] and kind["en"] and kind["degrade_fr"] and kind["degrade_en"]
    purposes = get_purposes()
    assert set(purposes["categories"]) == set(get_args(PurposeCategory))
    for prohibited in purposes["prohibited"].values():
        assert prohibited["source"].startswith("CSP art. L1461-1 V") and prohibited["keywords"]


def test_documents_name_known_routes():
    routes = set(get_routes())
    for name, doc in get_documents()["documents"].items():
        assert set(doc["routes"]) <= routes, name
        assert doc["fr"] and doc["en"] and doc["patterns"]


def test_registry_columns_are_record_fields():
    fields = {c["field"] for c in get_registry_columns()} - {"controller_types"}
    assert fields == set(ProjectRecord.model_fields) - {"version"}


def test_identifying_columns_exist_in_the_catalogue(real_catalog):
    """Each listed column, and its coarser replacement, is a real SNDS variable."""
    columns = {f.name.upper() for t in real_catalog.tables.values() for f in t.fields}
    for name, row in identifying_columns().items():
        assert name in columns, name
        if row["degradation_column"]:
            assert row["degradation_column"].upper() in columns, row


def test_organisation_types_have_labels():
    from sndskit.access.spec import OrganisationType

    for kind in get_args(OrganisationType):
        assert label(f"org_{kind}", "fr") and label(f"org_{kind}", "en")
