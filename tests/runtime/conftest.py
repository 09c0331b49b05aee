"""Helpers for runtime tests: a registry with recording stub actions, and publishing shortcuts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from algaflow.registry import ActionDef, Registry, default_registry
from algaflow.store.tables import workflow_definitions
from algaflow.store.workflows import create_workflow, insert_version

ANY_OBJECT: dict[str, Any] = {"type": "object"}
TEST_SCHEMA = "payload.Test.v1"


class Actions:
    """Stub actions that record every call as ``(action_id, input)``."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.calls: list[tuple[str, Any]] = []

    def add(
        self,
        action_id: str,
        fn: Callable[[dict[str, Any], Any], Any] | None = None,
        *,
        version: int = 1,
        input_schema: dict[str, Any] | None = None,
    ) -> None:
        def handler(args: dict[str, Any], ctx: Any) -> Any:
            self.calls.append((action_id, args))
            return fn(args, ctx) if fn else {}

        self.registry.actions.register(
            ActionDef(action_id, version, input_schema or ANY_OBJECT, ANY_OBJECT, handler)
        )

    def called(self, action_id: str) -> list[Any]:
        return [args for name, args in self.calls if name == action_id]


@pytest.fixture
def registry() -> Registry:
    reg = default_registry()
    reg.schemas.register(
        TEST_SCHEMA,
        {"type": "object", "properties": {"n": {"type": "number"}, "ticketId": {"type": "string"}}},
    )
    return reg


@pytest.fixture
def actions(registry: Registry) -> Actions:
    acts = Actions(registry)
    acts.add("test.echo", lambda args, _ctx: {"echo": args})
    return acts


def publish(
    conn: sa.Connection,
    tenant: str,
    steps: list[dict[str, Any]],
    *,
    key: str = "wf",
    trigger: dict[str, Any] | None = None,
    paused: bool = False,
    concurrency_limit: int | None = None,
    schema_ref: str = TEST_SCHEMA,
    version: int = 1,
) -> str:
    """Create a workflow with one published version; returns its id."""
    definition: dict[str, Any] = {
        "id": "x",
        "version": version,
        "name": key,
        "payloadSchemaRef": schema_ref,
        "steps": steps,
    }
    if trigger:
        definition["trigger"] = trigger
    wf = create_workflow(
        conn, tenant, key=key, name=key, payload_schema_ref=schema_ref, trigger=trigger
    )
    definition["id"] = wf["workflow_id"]
    insert_version(conn, tenant, wf["workflow_id"], version=version, definition_json=definition)
    conn.execute(
        workflow_definitions.update()
        .where(workflow_definitions.c.workflow_id == wf["workflow_id"])
        .values(status="published", is_paused=paused, concurrency_limit=concurrency_limit)
    )
    return wf["workflow_id"]


def expr(source: str) -> dict[str, str]:
    return {"$expr": source}


def call(step_id: str, action_id: str = "test.echo", **config: Any) -> dict[str, Any]:
    """An ``action.call`` step; ``retry``/``onError`` go on the step, the rest into config."""
    step: dict[str, Any] = {"id": step_id, "type": "action.call"}
    for field in ("retry", "onError"):
        if field in config:
            step[field] = config.pop(field)
    step["config"] = {"actionId": action_id, "version": 1, **config}
    return step


def assign(step_id: str, **paths: str) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "transform.assign",
        "config": {"assign": {k.replace("__", "."): expr(v) for k, v in paths.items()}},
    }
