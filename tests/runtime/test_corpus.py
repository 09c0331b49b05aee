"""Every workflow of the Alga sample corpus runs to the terminal state its bundle implies.

Bundles are read in place and imported by inserting definition and version rows (drafts without a
published version are published as version 1). Actions are stand-ins that record their calls;
``callWorkflow`` steps that point at the placeholder id are pointed at the bundle's sub-workflow,
as Alga's fixture harness does. Each bundle's trigger event is emitted with a payload that holds
every ``payload.*`` path its expressions read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.conftest import corpus_files

from algaflow.api.statuses import status_for
from algaflow.definitions.paths import walk_steps
from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import ActionDef, default_registry
from algaflow.services.events import emit_event
from algaflow.services.runs import list_runs
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.run_tables import workflow_run_waits
from algaflow.store.tables import workflow_definitions
from algaflow.store.workflows import create_workflow, insert_version, update_metadata

PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
#: The base shape of Alga's event payloads (§4.3): enough to make "missing fields" fail.
EVENT_BASE = {
    "type": "object",
    "required": ["tenantId", "occurredAt", "ticketId"],
    "properties": {"ticketId": {"type": "string"}},
}
#: Outputs the corpus reads back from its actions (``vars.<saveAs>.<field>``).
OUTPUTS: dict[str, Any] = {
    "projects.create_task": {"task_id": "22222222-2222-4222-8222-222222222222"},
    "links.lookup": {"matches": [{"id": "33333333-3333-4333-8333-333333333333"}]},
    "tickets.find": {"ticket": {"attributes": {"fixture_bad_assignee_user_id": "u-1"}}},
}
#: Bundles that exist to show a run is *not* made, and how they are exercised.
NOT_STARTED = {
    "runtime-paused-no-run.bundle.json": "paused",
    "schema-invalid-event-payload.bundle.json": "invalid-payload",
    "schema-unknown-schema-ref.bundle.json": "unknown-ref",
}
_PAYLOAD_PATH = re.compile(r"\bpayload((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def _versions(workflow: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    published = [(v["version"], v["definition"]) for v in workflow["publishedVersions"]]
    return published or [(1, workflow["draft"]["definition"])]


def _import(conn: sa.Connection, tenant: str, bundle: dict[str, Any]) -> dict[str, str]:
    """Insert the bundle's workflows; returns key -> workflow id."""
    ids: dict[str, str] = {}
    for workflow in bundle["workflows"]:
        meta = workflow["metadata"]
        row = create_workflow(
            conn, tenant, key=workflow["key"], name=meta["name"],
            payload_schema_ref=meta["payloadSchemaRef"], trigger=meta["trigger"],
        )  # fmt: skip
        update_metadata(
            conn,
            tenant,
            row["workflow_id"],
            {"isPaused": meta["isPaused"], "concurrencyLimit": meta["concurrencyLimit"]},
        )
        ids[workflow["key"]] = row["workflow_id"]
    child = next((wid for key, wid in ids.items() if key.startswith("subfixture.")), None)
    for workflow in bundle["workflows"]:
        wid = ids[workflow["key"]]
        for number, definition in _versions(workflow):
            definition = json.loads(json.dumps(definition))
            definition["id"] = wid
            for _, step in walk_steps(definition["steps"]):
                if step.get("type") == "control.callWorkflow" and step["workflowId"] == PLACEHOLDER:
                    step["workflowId"] = child
            insert_version(conn, tenant, wid, version=number, definition_json=definition)
        conn.execute(
            workflow_definitions.update()
            .where(workflow_definitions.c.workflow_id == wid)
            .values(status="published")
        )
    return ids


def _registry(bundle: dict[str, Any], calls: list[tuple[str, Any]]) -> Any:
    registry = default_registry()
    refs, actions = set(), set()
    for workflow in bundle["workflows"]:
        refs.add(workflow["metadata"]["payloadSchemaRef"])
        for _, definition in _versions(workflow):
            for _, step in walk_steps(definition["steps"]):
                if step.get("type") == "action.call":
                    actions.add((step["config"]["actionId"], step["config"]["version"]))
    for ref in refs - set(registry.schemas.refs()):
        registry.schemas.register(ref, EVENT_BASE if "Ticket" in ref else {"type": "object"})

    def stand_in(action_id: str) -> Any:
        def handler(args: dict[str, Any], _ctx: Any) -> Any:
            calls.append((action_id, args))
            return OUTPUTS.get(action_id, {})

        return handler

    for action_id, version in actions - {(a.id, a.version) for a in registry.actions.list()}:
        registry.actions.register(ActionDef(action_id, version, {"type": "object"},
                                            {"type": "object"}, stand_in(action_id)))  # fmt: skip
    return registry


def _payload(bundle: dict[str, Any], tenant: str) -> dict[str, Any]:
    """Every payload path the definitions read, filled in; equal-looking status ids line up."""
    payload: dict[str, Any] = {
        "tenantId": tenant,
        "occurredAt": "2026-01-27T00:00:00.000Z",
        "ticketId": "11111111-1111-4111-8111-111111111111",
    }
    text = json.dumps([_versions(w) for w in bundle["workflows"]])
    for match in _PAYLOAD_PATH.finditer(text):
        parts = match.group(1)[1:].split(".")
        node = payload
        for part in parts[:-1]:
            node = node.setdefault(part, {}) if isinstance(node.get(part, {}), dict) else {}
        leaf = parts[-1]
        if leaf not in node and not leaf.lower().endswith("mode"):
            node[leaf] = "a@example.com" if "mail" in leaf.lower() else f"{leaf}-1"
    if "newStatusId" in payload:  # take the waiting branch of the reminder fixture
        payload["newStatusId"] = payload.get("fixtureWaitingStatusId", "s-1")
    return payload


def _events(bundle: dict[str, Any]) -> list[str]:
    names = [(w["metadata"]["trigger"] or {}).get("eventName") for w in bundle["workflows"]]
    return sorted({n for n in names if n})


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_corpus_bundle_runs(engine, tenant, path: Path):
    bundle = json.loads(path.read_text())
    calls: list[tuple[str, Any]] = []
    registry = _registry(bundle, calls)
    with engine.begin() as conn:
        _import(conn, tenant, bundle)
    payload = _payload(bundle, tenant)
    kind = NOT_STARTED.get(path.name)
    for name in _events(bundle):
        if kind == "invalid-payload":
            payload = {k: v for k, v in payload.items() if k != "ticketId"}
        ref = {"invalid-payload": "payload.TicketCreated.v1",
               "unknown-ref": "payload.NoSuchSchema.v1"}.get(kind or "")  # fmt: skip
        if kind in ("invalid-payload", "unknown-ref"):
            with pytest.raises(AlgaflowError) as err:
                emit_event(UnitOfWork(engine), tenant, name, payload, registry=registry,
                           payload_schema_ref=ref, wait=True)  # fmt: skip
            assert status_for(err.value.code) == 400
            continue
        result = emit_event(UnitOfWork(engine), tenant, name, payload, registry=registry, wait=True)
        assert not result.get("errors"), result
    _resume_event_waits(engine, tenant, registry)
    runs = list_runs(UnitOfWork(engine), tenant)
    if kind is not None:
        assert runs == [] and calls == []
        return
    triggered = [w for w in bundle["workflows"] if w["metadata"]["trigger"]]
    assert len([r for r in runs if r["parentRunId"] is None]) == len(triggered)
    assert {r["status"] for r in runs} == {"SUCCEEDED"}, [(r["status"], r["error"]) for r in runs]
    children = [w for w in bundle["workflows"] if w["key"].startswith("subfixture.")]
    assert len([r for r in runs if r["parentRunId"]]) == len(children)


def _resume_event_waits(engine, tenant: str, registry: Any) -> None:
    """Deliver the events the runs wait for (the fixtures' "normal path")."""
    with engine.connect() as conn:
        waits = conn.execute(
            sa.select(workflow_run_waits.c.event_name, workflow_run_waits.c.key).where(
                workflow_run_waits.c.status == "WAITING", workflow_run_waits.c.wait_type == "event"
            )
        ).all()
    for name, key in waits:
        emit_event(
            UnitOfWork(engine), tenant, name, {}, registry=registry, correlation_key=key, wait=True
        )
