"""Small bundles that need only the built-in registry, shared by the API and CLI tests."""

from __future__ import annotations

import copy
import json
from typing import Any

import sqlalchemy as sa

from algaflow.bundle import derive_dependencies
from algaflow.store.tables import workflow_definition_versions, workflow_definitions

BASE = "/api/workflow-definitions"
IMPORT = f"{BASE}/import"
EXPORT = f"{BASE}/export"
SOURCE_ID = "00000000-0000-4000-8000-000000000001"
PINNED = "2026-01-25T12:00:00.000Z"
JSON_HEADERS = {"Content-Type": "application/json"}


def definition(name: str = "Hello", workflow_id: str = SOURCE_ID) -> dict[str, Any]:
    return {
        "id": workflow_id,
        "version": 1,
        "name": name,
        "payloadSchemaRef": "payload.Empty.v1",
        "steps": [{"id": "mark", "type": "state.set", "config": {"state": "STARTED"}}],
    }


def workflow(key: str, **metadata: Any) -> dict[str, Any]:
    draft = definition(key)
    entry: dict[str, Any] = {
        "key": key,
        "metadata": {
            "name": key,
            "description": None,
            "payloadSchemaRef": "payload.Empty.v1",
            "payloadSchemaMode": "pinned",
            "pinnedPayloadSchemaRef": "payload.Empty.v1",
            "trigger": None,
            "isSystem": False,
            "isVisible": True,
            "isPaused": False,
            "concurrencyLimit": None,
            "autoPauseOnFailure": False,
            "failureRateThreshold": "0.50",
            "failureRateMinRuns": 10,
            "retentionPolicyOverride": None,
            **metadata,
        },
        "draft": {"draftVersion": 2, "definition": draft},
        "publishedVersions": [
            {"version": 1, "definition": copy.deepcopy(draft), "payloadSchemaJson": None}
        ],
    }
    entry["dependencies"] = derive_dependencies(entry)
    return entry


def bundle(*workflows: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": "alga-psa.workflow-bundle",
        "formatVersion": 1,
        "exportedAt": PINNED,
        "workflows": list(workflows) or [workflow("demo.hello")],
    }


def encode(value: Any) -> bytes:
    """JSON text as a client would send it (``\\udXXX`` escapes for lone surrogates)."""
    return json.dumps(value).encode("ascii")


def with_missing_action(key: str) -> dict[str, Any]:
    """A workflow calling ``missing.action@1``, which no registry has."""
    entry = workflow(key)
    entry["draft"]["definition"]["steps"].append(
        {
            "id": "call",
            "type": "action.call",
            "config": {"actionId": "missing.action", "version": 1},
        }
    )
    entry["dependencies"] = derive_dependencies(entry)
    return entry


def rows(engine: Any) -> dict[str, list[Any]]:
    """Everything an import writes, for before/after comparisons."""
    with engine.connect() as conn:
        defs = conn.execute(
            sa.select(workflow_definitions).order_by(workflow_definitions.c.workflow_id)
        )
        versions = conn.execute(
            sa.select(workflow_definition_versions).order_by(
                workflow_definition_versions.c.workflow_id, workflow_definition_versions.c.version
            )
        )
        return {"defs": [tuple(r) for r in defs], "versions": [tuple(r) for r in versions]}
