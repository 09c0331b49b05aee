"""An event costs the same statements whether the tenant has 1 or 50 published workflows.

Statements (and commits) are counted on the engine while one event is delivered, with the
runs it starts driven to their end: one that no trigger names, and one that starts one run.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from tests.fixtures.workflows import publish_definition

from algaflow.registry import Registry, default_registry
from algaflow.services.events import emit_event
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.tenants import create_tenant

SCHEMA = "payload.EventStatements.v1"


def definition(event_name: str) -> dict[str, Any]:
    return {"id": "x", "version": 1, "name": event_name, "payloadSchemaRef": SCHEMA,
            "trigger": {"type": "event", "eventName": event_name},
            "steps": [{"id": "s", "type": "state.set", "config": {"state": "DONE"}}]}  # fmt: skip


def tenant_with(engine: Engine, workflows: int) -> str:
    """A tenant with ``workflows`` published workflows; only the first listens to ``MATCH``."""
    with engine.begin() as conn:
        tenant = str(create_tenant(conn, f"events-{workflows}")["id"])
    for i in range(workflows):
        publish_definition(engine, tenant, f"wf-{i}", definition("MATCH" if i == 0 else f"E{i}"))
    return tenant


def statements(engine: Engine, tenant: str, name: str, registry: Registry) -> int:
    count = [0]

    def bump(*_args: Any) -> None:
        count[0] += 1

    event.listen(engine, "before_cursor_execute", bump)
    event.listen(engine, "commit", bump)
    try:
        result = emit_event(UnitOfWork(engine), tenant, name, {"n": 1}, registry=registry,
                            wait=True)  # fmt: skip
    finally:
        event.remove(engine, "before_cursor_execute", bump)
        event.remove(engine, "commit", bump)
    assert len(result["startedRuns"]) == (name == "MATCH")
    return count[0]


@pytest.mark.parametrize("name", ["NOTHING", "MATCH"])
def test_statements_per_event_do_not_grow_with_the_workflows(engine, name):
    registry = default_registry()
    registry.schemas.register(SCHEMA, {"type": "object"})
    one, fifty = tenant_with(engine, 1), tenant_with(engine, 50)
    statements(engine, one, "WARM", registry)  # pool and caches warmed alike
    assert statements(engine, fifty, name, registry) == statements(engine, one, name, registry)
