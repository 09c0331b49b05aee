"""Builders shared by the export/import tests: registries, definitions, bundles, row counts.

Like Alga's own integration tests, a test registry adds the payload schema
``payload.TestPayload.v1`` and the action ``test.echo@1`` to the built-ins.
"""

from __future__ import annotations

import copy
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from algaflow.bundle.dependencies import derive_dependencies
from algaflow.bundle.format import BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION
from algaflow.registry import ActionDef, NodeTypeDef, Registry, default_registry
from algaflow.services.bundles import import_bundle_on
from algaflow.services.definitions import publish_on
from algaflow.store import workflows as store
from algaflow.store.tables import workflow_definition_versions, workflow_definitions

TEST_SCHEMA_REF = "payload.TestPayload.v1"
OBJECT = {"type": "object", "properties": {}, "additionalProperties": True}


def make_registry() -> Registry:
    registry = default_registry()
    registry.schemas.register(TEST_SCHEMA_REF, {"type": "object", "properties": {}})
    registry.actions.register(
        ActionDef("test.echo", 1, OBJECT, OBJECT, handler=lambda args, ctx: dict(args))
    )
    return registry


def register_stand_ins(registry: Registry, missing: dict[str, Any]) -> None:
    """Register a do-nothing stand-in for everything a ``MISSING_DEPENDENCIES`` error names."""
    for action in missing["missingActions"]:
        registry.actions.register(
            ActionDef(action["actionId"], action["version"], OBJECT, OBJECT, lambda a, c: {})
        )
    for node_type in missing["missingNodeTypes"]:
        registry.nodes.register(NodeTypeDef(node_type, {"type": "object"}))
    for ref in missing["missingSchemaRefs"]:
        registry.schemas.register(ref, {"type": "object"})


def definition(
    name: str = "Test",
    steps: list[dict[str, Any]] | None = None,
    *,
    workflow_id: str = "00000000-0000-0000-0000-000000000001",
    version: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": workflow_id,
        "version": version,
        "name": name,
        "payloadSchemaRef": TEST_SCHEMA_REF,
        "steps": steps if steps is not None else [echo_step("echo")],
        **extra,
    }


def echo_step(step_id: str, text: str = "hi") -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "action.call",
        "config": {
            "actionId": "test.echo",
            "version": 1,
            "inputMapping": {"text": {"$expr": f"'{text}'"}},
            "saveAs": f"vars.{step_id.replace('-', '_')}",
        },
    }


def call_step(step_id: str, workflow_id: str, version: int = 1) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "control.callWorkflow",
        "workflowId": workflow_id,
        "workflowVersion": version,
    }


def control_flow_steps() -> list[dict[str, Any]]:
    """Control flow and action calls, as the round-trip tests need."""
    return [
        {"id": "mark", "type": "state.set", "config": {"state": "STARTED"}},
        {
            "id": "branch",
            "type": "control.if",
            "condition": {"$expr": "payload.flag = true"},
            "then": [echo_step("then-echo", "yes")],
            "else": [
                {
                    "id": "guard",
                    "type": "control.tryCatch",
                    "try": [echo_step("try-echo", "try")],
                    "catch": [{"id": "note", "type": "state.set", "config": {"state": "FAILED"}}],
                    "captureErrorAs": "err",
                }
            ],
        },
        {
            "id": "loop",
            "type": "control.forEach",
            "items": {"$expr": "[1, 2, 3]"},
            "itemVar": "item",
            "body": [
                {
                    "id": "assign",
                    "type": "transform.assign",
                    "config": {"assign": {"vars.last": {"$expr": "item * 1.5"}}},
                }
            ],
        },
        {"id": "done", "type": "control.return"},
    ]


def metadata(name: str = "Test", **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": None,
        "payloadSchemaRef": TEST_SCHEMA_REF,
        "payloadSchemaMode": "pinned",
        "pinnedPayloadSchemaRef": TEST_SCHEMA_REF,
        "trigger": None,
        "isSystem": False,
        "isVisible": True,
        "isPaused": False,
        "concurrencyLimit": None,
        "autoPauseOnFailure": False,
        "failureRateThreshold": "0.50",
        "failureRateMinRuns": 10,
        "retentionPolicyOverride": None,
        **overrides,
    }


def workflow(
    key: str,
    draft: dict[str, Any] | None = None,
    versions: list[dict[str, Any]] | None = None,
    *,
    draft_version: int | None = None,
    dependencies: dict[str, Any] | None = None,
    **meta: Any,
) -> dict[str, Any]:
    """A bundle workflow entry; ``versions`` defaults to one v1 equal to the draft, and
    ``draft_version`` to one above the highest published version (as after a publish)."""
    draft = draft if draft is not None else definition()
    if versions is None:
        versions = [{"version": 1, "definition": copy.deepcopy(draft), "payloadSchemaJson": None}]
    if draft_version is None:
        draft_version = max((v["version"] for v in versions), default=0) + 1
    entry = {
        "key": key,
        "metadata": metadata(**meta),
        "draft": {"draftVersion": draft_version, "definition": draft},
        "publishedVersions": versions,
    }
    entry["dependencies"] = dependencies or derive_dependencies(entry)
    return entry


def bundle(*workflows: dict[str, Any], exported_at: str = "2026-01-25T12:00:00.000Z") -> dict:
    return {
        "format": BUNDLE_FORMAT,
        "formatVersion": BUNDLE_FORMAT_VERSION,
        "exportedAt": exported_at,
        "workflows": list(workflows),
    }


def create_published(
    conn: Connection,
    tenant: str,
    registry: Registry,
    key: str,
    draft: dict[str, Any],
    *,
    publish_times: int = 1,
) -> str:
    """Create a workflow from ``draft`` and publish it ``publish_times`` times; its id."""
    row = store.create_workflow(
        conn, tenant, key=key, definition=draft, pinned_payload_schema_ref=TEST_SCHEMA_REF
    )
    for _ in range(publish_times):
        result = publish_on(conn, tenant, row.workflow_id, registry=registry)
        assert result["ok"], result["errors"]
    return row.workflow_id


def row_counts(engine: Engine) -> tuple[int, int]:
    """(definitions, versions) rows in the whole database."""
    with engine.connect() as conn:
        return tuple(
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (workflow_definitions, workflow_definition_versions)
        )


def normalise_exported_at(data: bytes) -> bytes:
    """Canonical bytes with the one line that legitimately differs between exports blanked."""
    lines = data.split(b"\n")
    return b"\n".join(
        b'  "exportedAt": "*",' if line.startswith(b'  "exportedAt": ') else line for line in lines
    )


def import_into(engine: Engine, tenant: str, data: Any, registry: Registry, **options: Any) -> Any:
    """Import ``data`` into ``tenant`` in a transaction of its own (committed unless refused)."""
    with engine.begin() as conn:
        return import_bundle_on(conn, tenant, data, registry=registry, **options)
