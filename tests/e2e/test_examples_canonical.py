"""The example bundles stay canonical, valid on a bare instance plus ``examples/schemas``, and
exactly what the exporter writes for them; every one is described and exercised."""

from __future__ import annotations

import json
import re

import pytest
from tests.e2e.e2e_scenarios import (
    BUNDLES,
    EXAMPLES,
    PAYLOADS,
    SCENARIOS,
    SCHEMAS,
    examples_registry,
    same_but_exported_at,
)
from typer.testing import CliRunner

from algaflow.bundle import derive_dependencies, dumps_canonical_bytes, loads_json
from algaflow.bundle.errors import BundleError
from algaflow.bundle.importer import check_bundle
from algaflow.cli.main import app
from algaflow.definitions.validation import payload_schema_snapshot
from algaflow.registry import default_registry
from algaflow.services.bundles import export_bundle_bytes_on as export_bundle_bytes
from algaflow.services.bundles import import_bundle_on as import_bundle

FIXTURES = sorted(BUNDLES.glob("*.json"))


def test_there_are_example_bundles():
    assert len(FIXTURES) >= 5


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixture_is_canonical_and_valid(path):
    raw = path.read_bytes()
    assert dumps_canonical_bytes(loads_json(raw)) == raw, "run: algaflow bundle fmt " + path.name
    bundle = loads_json(raw)
    registry = examples_registry()
    check_bundle(bundle, registry=registry)
    for workflow in bundle["workflows"]:
        assert workflow["dependencies"] == derive_dependencies(workflow)
        assert len(workflow["metadata"]) == 14
        [published] = workflow["publishedVersions"]
        draft = workflow["draft"]
        assert draft["draftVersion"] == draft["definition"]["version"] == 2
        assert published["definition"] == {**draft["definition"], "version": 1}
        ref = published["definition"]["payloadSchemaRef"]
        assert published["payloadSchemaJson"] == payload_schema_snapshot(registry, ref)


def test_cli_fmt_check_and_validate_accept_every_fixture(monkeypatch):
    monkeypatch.setenv("ALGAFLOW_SCHEMA_DIRS", str(SCHEMAS))
    monkeypatch.setenv("ALGAFLOW_PLUGINS", "algaflow.testing.standins:register_directory")
    runner = CliRunner()
    files = [str(p) for p in FIXTURES]
    result = runner.invoke(app, ["bundle", "fmt", "--check", *files])
    assert result.exit_code == 0, result.output
    assert "would reformat" not in result.output
    for path in files:
        result = runner.invoke(app, ["bundle", "validate", path])
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_bare_instance_misses_only_the_example_schemas(path):
    """No plugin is needed (but the stand-in directory for notify-user.json): without the schema
    folder only payload schema refs are missing."""
    with pytest.raises(BundleError) as caught:
        check_bundle(loads_json(path.read_bytes()), registry=default_registry())
    details = caught.value.details
    assert caught.value.code == "MISSING_DEPENDENCIES"
    standins = (
        [{"actionId": "notify.user", "version": 1}] if path.name == "notify-user.json" else []
    )
    assert details["missingActions"] == standins and details["missingNodeTypes"] == []
    shipped = {p.name.removesuffix(".json") for p in SCHEMAS.glob("*.json")}
    assert set(details["missingSchemaRefs"]) <= shipped


def test_fixture_is_what_the_exporter_writes(engine, tenant):
    registry = examples_registry()
    for path in FIXTURES:
        raw = path.read_bytes()
        keys = [w["key"] for w in loads_json(raw)["workflows"]]
        with engine.begin() as conn:
            import_bundle(conn, tenant, raw, registry=registry)
            exported = export_bundle_bytes(conn, tenant, keys=keys)
        assert same_but_exported_at(exported, raw), path.name


def test_every_fixture_payload_and_schema_is_described_and_used():
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for path in [*FIXTURES, *PAYLOADS.glob("*.json")]:
        assert re.search(rf"`{re.escape(path.parent.name)}/{re.escape(path.name)}`", readme), path
    assert {p.name for p in FIXTURES} == {s.bundle for s in SCENARIOS}
    used = {send.payload for s in SCENARIOS for send in s.sends}
    assert used == {p.name for p in PAYLOADS.glob("*.json")}
    for schema in SCHEMAS.glob("*.json"):
        assert dumps_canonical_bytes(json.loads(schema.read_bytes())) == schema.read_bytes()
