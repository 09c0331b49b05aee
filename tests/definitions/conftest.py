"""Fixtures for the definition tests: the Alga corpus definitions and a registry with stand-ins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from algaflow.definitions.paths import walk_steps

#: The one corpus bundle that fails the bundle schema (its definitions are not checked here).
SCHEMA_INVALID_BUNDLE = "workflow-data-store-task-mirror.v1.json"


@pytest.fixture
def corpus_definitions(corpus_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """``(label, definition)`` for every draft and published version of the corpus."""
    out = []
    for path in sorted(corpus_dir.glob("*.json")):
        if path.name == SCHEMA_INVALID_BUNDLE:
            continue
        for workflow in json.loads(path.read_text("utf-8"))["workflows"]:
            out.append((f"{path.name}:{workflow['key']}:draft", workflow["draft"]["definition"]))
            for published in workflow.get("publishedVersions", []):
                label = f"{path.name}:{workflow['key']}:v{published['version']}"
                out.append((label, published["definition"]))
    assert len(out) > 40
    return out


def _noop(args: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {}


@pytest.fixture
def corpus_registry(corpus_definitions: list[tuple[str, dict[str, Any]]]) -> Any:
    """The default registry plus stand-ins for every action and schema ref the corpus uses.

    They are found by walking the definitions (``action.call`` actionId/version,
    ``payloadSchemaRef``, ``trigger.sourcePayloadSchemaRef``), not read from the bundles'
    declared dependencies. Stand-in schemas accept any object.
    """
    from algaflow.registry import ActionDef, default_registry

    registry = default_registry()
    actions: set[tuple[str, int]] = set()
    refs: set[str] = set()
    for _, definition in corpus_definitions:
        for _, step in walk_steps(definition["steps"]):
            if step["type"] == "action.call":
                actions.add((step["config"]["actionId"], step["config"]["version"]))
        refs.add(definition["payloadSchemaRef"])
        source = (definition.get("trigger") or {}).get("sourcePayloadSchemaRef")
        if source:
            refs.add(source)
    for action_id, version in sorted(actions):
        if registry.actions.get(action_id, version) is None:
            schema = {"type": "object"}
            registry.actions.register(ActionDef(action_id, version, schema, schema, _noop))
    for ref in sorted(refs):
        if not registry.schemas.has(ref):
            registry.schemas.register(ref, {"type": "object"})
    return registry
