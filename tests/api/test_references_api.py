"""References over HTTP: the references route, the import envelope with bindings, and
``allowUnresolved``; on both databases. A refused import writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.api.bundle_builders import IMPORT, JSON_HEADERS, rows
from tests.e2e.e2e_scenarios import BUNDLES, SCHEMAS

from algaflow.registry import Registry, default_registry, load_schema_dir
from algaflow.testing.standins import directory_plugin

REFERENCES = "/api/workflow-definitions/references"


@pytest.fixture
def registry() -> Registry:
    registry = default_registry()
    load_schema_dir(registry, SCHEMAS)
    directory_plugin({"*": ["ada.lovelace"]})(registry)
    return registry


def with_secret() -> dict[str, Any]:
    """notify-user.json whose draft and version 1 also pass the secret STAGING_TOKEN."""
    value = json.loads((BUNDLES / "notify-user.json").read_bytes())
    entry = value["workflows"][0]
    for definition in [entry["draft"]["definition"], entry["publishedVersions"][0]["definition"]]:
        definition["steps"][1]["config"]["inputMapping"]["token"] = {"$secret": "STAGING_TOKEN"}
    return value


def post(api: Any, body: Any, **params: str) -> Any:
    return api.client.post(IMPORT, content=json.dumps(body), params=params, headers=JSON_HEADERS)


def test_references_route_lists_them_with_a_template(api):
    answer = api.client.post(REFERENCES, json=with_secret())
    assert answer.status_code == 200, answer.text
    found = answer.json()["references"]
    assert [(r["version"], r["kind"], r["value"]) for r in found] == [
        ("draft", "user", "ada"), ("draft", "secret", "STAGING_TOKEN"),
        (1, "user", "ada"), (1, "secret", "STAGING_TOKEN"),
    ]  # fmt: skip
    assert answer.json()["bindingsTemplate"] == {
        "secret": {"STAGING_TOKEN": "STAGING_TOKEN"},
        "user": {"ada": "ada"},
    }
    assert api.client.post(REFERENCES, json={"format": "x"}).json()["code"] == "UNSUPPORTED_FORMAT"


def test_import_is_refused_then_bound_over_http(api, engine, monkeypatch):
    monkeypatch.setenv("ALGAFLOW_SECRET_PROD_TOKEN", "prod-secret-value")
    before = rows(engine)
    refused = post(api, with_secret())
    assert refused.status_code == 400
    assert refused.json()["code"] == "UNRESOLVED_REFERENCES"
    assert len(refused.json()["details"]["errors"]) == 4
    assert rows(engine) == before

    bindings = {"user": {"ada": "ada.lovelace"}, "secret": {"STAGING_TOKEN": "PROD_TOKEN"}}
    bad = post(api, {"bundle": with_secret(), "bindings": {"mailbox": {"a": "b"}}})
    assert bad.json()["code"] == "UNKNOWN_REFERENCE_KIND"
    extra = post(api, {"bundle": with_secret(), "bindings": bindings, "force": True})
    assert extra.json()["code"] == "INVALID_REQUEST"
    shape = post(api, {"bundle": with_secret(), "bindings": ["user"]})
    assert shape.json()["code"] == "INVALID_BINDINGS"
    assert rows(engine) == before

    imported = post(api, {"bundle": with_secret(), "bindings": bindings})
    assert imported.status_code == 200, imported.text
    assert len(imported.json()["substitutions"]) == 4
    exported = api.client.post(
        "/api/workflow-definitions/export", json={"keys": ["examples.notify-user"]}
    ).json()
    draft = exported["workflows"][0]["draft"]["definition"]["steps"][1]["config"]["inputMapping"]
    assert draft["userId"] == "ada.lovelace" and draft["token"] == {"$secret": "PROD_TOKEN"}


def test_allow_unresolved_turns_the_refusal_into_warnings(api):
    answer = post(api, with_secret(), allowUnresolved="true", dryRun="true")
    assert answer.status_code == 200, answer.text
    codes = [w["code"] for w in answer.json()["warnings"]]
    assert codes.count("REFERENCE_UNRESOLVED") == 4
