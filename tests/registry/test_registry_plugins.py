"""Plugins (``module:function``, entry points) and schema folders."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest

from algaflow.config import Settings, load_settings
from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import (
    build_registry,
    default_registry,
    load_entry_point_plugins,
    load_plugin,
    load_schema_dir,
)

HERE = Path(__file__).resolve().parent
PLUGIN = "algaflow_test_plugin:register"


@pytest.fixture(autouse=True)
def _plugin_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))


def test_load_plugin_registers_actions_and_schemas() -> None:
    registry = default_registry()
    load_plugin(registry, PLUGIN)
    assert registry.actions.get("tickets.add_comment", 1).side_effectful
    assert registry.schemas.has("payload.PluginThing.v1")


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("no_colon", "expected the form"),
        ("algaflow_no_such_module:register", "cannot import"),
        ("algaflow_test_plugin:missing", "has no attribute"),
        ("algaflow_test_plugin:not_callable", "not callable"),
        ("algaflow_test_plugin:broken", "RuntimeError: plugin bug"),
    ],
)
def test_load_plugin_failures(spec: str, reason: str) -> None:
    with pytest.raises(AlgaflowError) as caught:
        load_plugin(default_registry(), spec)
    assert caught.value.code == "PLUGIN_LOAD_FAILED"
    assert reason in caught.value.message and spec in caught.value.message


def test_plugin_loaded_twice_reports_the_duplicate() -> None:
    registry = default_registry()
    load_plugin(registry, PLUGIN)
    with pytest.raises(AlgaflowError) as caught:
        load_plugin(registry, PLUGIN)
    assert (
        caught.value.code == "PLUGIN_LOAD_FAILED" and "REGISTRY_DUPLICATE" in caught.value.message
    )


def test_entry_points_given_explicitly() -> None:
    registry = default_registry()
    points = [metadata.EntryPoint("thing", PLUGIN, "algaflow.plugins")]
    assert load_entry_point_plugins(registry, points) == ["thing"]
    assert registry.schemas.has("payload.PluginThing.v1")
    bad = [metadata.EntryPoint("bad", "algaflow_no_such_module:x", "algaflow.plugins")]
    with pytest.raises(AlgaflowError) as caught:
        load_entry_point_plugins(default_registry(), bad)
    assert caught.value.code == "PLUGIN_LOAD_FAILED"


def test_entry_points_discovered_from_an_installed_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "algaflow_test_plugin_dist-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: algaflow-test-plugin-dist\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(f"[algaflow.plugins]\nsample = {PLUGIN}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = default_registry()
    assert "sample" in load_entry_point_plugins(registry)
    assert registry.actions.get("tickets.add_comment", 1) is not None


def _write(folder: Path, name: str, content: object) -> None:
    (folder / name).write_text(json.dumps(content), encoding="utf-8")


def test_schema_dir(tmp_path: Path) -> None:
    obj = {
        "type": "object",
        "properties": {"id": {"type": "string"}},
        "additionalProperties": False,
    }
    _write(tmp_path, "payload.TicketCreated.v1.json", obj)
    _write(
        tmp_path,
        "named.json",
        {**obj, "x-algaflow-ref": "payload.Named.v1", "x-algaflow-strict": True},
    )
    _write(
        tmp_path,
        "exported.json",
        {
            "$ref": "#/definitions/payload.Exported.v1",
            "definitions": {"payload.Exported.v1": obj},
            "$schema": "http://json-schema.org/draft-07/schema#",
        },
    )
    (tmp_path / "notes.txt").write_text("ignored")
    registry = default_registry()
    refs = load_schema_dir(registry, tmp_path)
    assert sorted(refs) == ["payload.Exported.v1", "payload.Named.v1", "payload.TicketCreated.v1"]
    schemas = registry.schemas
    assert schemas.get("payload.Named.v1") == obj  # x-algaflow-* removed
    assert schemas.get("payload.Exported.v1") == obj
    assert schemas.validate("payload.TicketCreated.v1", {"id": "1", "extra": 1}) == []
    assert schemas.validate("payload.Named.v1", {"id": "1", "extra": 1})


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("{not json", "SCHEMA_FILE_INVALID"),
        ("[1]", "SCHEMA_FILE_INVALID"),
        ('{"type": 5}', "REGISTRY_INVALID"),
    ],
)
def test_schema_dir_bad_files(tmp_path: Path, content: str, code: str) -> None:
    (tmp_path / "payload.Bad.v1.json").write_text(content)
    with pytest.raises(AlgaflowError) as caught:
        load_schema_dir(default_registry(), tmp_path)
    assert caught.value.code == code


def test_schema_dir_missing(tmp_path: Path) -> None:
    with pytest.raises(AlgaflowError) as caught:
        load_schema_dir(default_registry(), tmp_path / "nope")
    assert caught.value.code == "SCHEMA_DIR_INVALID"


def test_build_registry_from_settings(tmp_path: Path) -> None:
    _write(tmp_path, "payload.FromDir.v1.json", {"type": "object"})
    settings = load_settings({"ALGAFLOW_PLUGINS": PLUGIN, "ALGAFLOW_SCHEMA_DIRS": str(tmp_path)})
    registry = build_registry(settings)
    assert registry.actions.get("tickets.add_comment", 1) is not None
    assert registry.schemas.has("payload.FromDir.v1") and registry.schemas.has("payload.Empty.v1")
    with pytest.raises(AlgaflowError):
        build_registry(Settings(), extra_plugins=["algaflow_test_plugin:broken"])
