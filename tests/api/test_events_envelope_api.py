"""Alga-style events over real HTTP and through ``algaflow events emit`` (server and database
modes), on both databases: the envelope is filled, errors name ``schemaRef``, the payload limit
holds and nothing is written for a refusal."""

from __future__ import annotations

import json

import httpx
import pytest
import sqlalchemy as sa
from tests.api.health_probe import health_probe
from tests.fixtures.workflows import (
    ALGA_TENANT,
    TICKET,
    TICKET_ID,
    TICKET_SCHEMA,
    publish_definition,
    registry_from_schema_dir,
    write_schema_dir,
)
from typer.testing import CliRunner

from algaflow.services.run_inputs import MAX_PAYLOAD_BYTES
from algaflow.store.api_keys import create_api_key
from algaflow.store.run_tables import workflow_runs, workflow_runtime_events
from algaflow.store.tables import workflow_definitions
from algaflow.store.tenants import ensure_tenant

ALGA_EVENT = {
    "eventName": "TICKET_UPDATED",
    "correlationKey": TICKET_ID,
    "payloadSchemaRef": TICKET,
    "payload": {"ticketId": TICKET_ID, "changes": {}},
}


@pytest.fixture
def schema_dir(tmp_path):
    return write_schema_dir(tmp_path / "schemas", {TICKET: TICKET_SCHEMA})


@pytest.fixture
def registry(schema_dir):
    return registry_from_schema_dir(schema_dir)


ON_TICKET = {
    "id": "x",
    "version": 1,
    "name": "on-ticket",
    "payloadSchemaRef": TICKET,
    "trigger": {"type": "event", "eventName": "TICKET_UPDATED"},
    "steps": [{"id": "s", "type": "state.set", "config": {"state": "SEEN"}}],
}


def _publish(engine, tenant: str) -> str:
    return publish_definition(engine, tenant, "on-ticket", ON_TICKET)


@pytest.fixture
def server(live_server, engine, tenant):
    _publish(engine, tenant)
    with engine.begin() as conn:
        permissions = ("workflow:run", "workflow:read")
        _, key = create_api_key(conn, tenant, name="alga", permissions=permissions)
    with httpx.Client(base_url=live_server, headers={"x-api-key": key}, timeout=30) as client:
        yield client


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_an_alga_event_over_http_starts_a_run_with_the_envelope(server, tenant):
    response = server.post("/api/workflow/events?wait=true", json=ALGA_EVENT)
    assert response.status_code == 200, response.text
    [run_id] = response.json()["startedRuns"]
    run = server.get(f"/api/workflow-runs/{run_id}").json()
    assert run["status"] == "SUCCEEDED", run["error"]
    envelope = {k: run["input"].pop(k) for k in ("tenantId", "occurredAt", "actorType")}
    assert run["input"] == ALGA_EVENT["payload"]
    assert envelope["tenantId"] == tenant and envelope["actorType"] == "SYSTEM"
    assert envelope["occurredAt"].endswith("Z") and len(envelope["occurredAt"]) == 24


def test_an_event_naming_another_tenant_runs_as_the_keys_tenant(server, tenant):
    body = {**ALGA_EVENT, "payload": {**ALGA_EVENT["payload"], "tenantId": ALGA_TENANT}}
    [run_id] = server.post("/api/workflow/events?wait=true", json=body).json()["startedRuns"]
    assert server.get(f"/api/workflow-runs/{run_id}").json()["input"]["tenantId"] == tenant


@pytest.mark.parametrize(
    ("change", "code", "issues"),
    [
        ({"payloadSchemaRef": "payload.Nope.v1"}, "UNKNOWN_PAYLOAD_SCHEMA_REF", False),
        ({"payload": {"ticketId": "not-a-uuid"}}, "PAYLOAD_VALIDATION_FAILED", True),
    ],
)
def test_refused_events_name_schema_ref_and_write_nothing(server, engine, change, code, issues):
    response = server.post("/api/workflow/events?wait=true", json={**ALGA_EVENT, **change})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == code
    assert body["details"]["schemaRef"] == change.get("payloadSchemaRef", TICKET)
    assert "payloadSchemaRef" not in body["details"]
    assert ("issues" in body["details"]) is issues
    assert _count(engine, workflow_runtime_events) == 0 and _count(engine, workflow_runs) == 0


def test_a_refused_run_start_over_http_names_schema_ref(server, engine, tenant):
    with engine.connect() as conn:
        wf = conn.execute(sa.select(workflow_definitions.c.workflow_id)).scalar_one()
    response = server.post("/api/workflow-runs", json={"workflowId": wf, "payload": {}})
    assert response.status_code == 400, response.text
    details = response.json()["details"]
    assert details["schemaRef"] == TICKET and details["issues"] and details["runId"]


def test_an_event_over_512_kib_is_refused_over_http(server, engine, live_server):
    big = {**ALGA_EVENT, "payload": {"ticketId": TICKET_ID, "blob": "x" * (MAX_PAYLOAD_BYTES + 1)}}
    with health_probe(live_server) as probe:
        response = server.post("/api/workflow/events?wait=true", json=big)
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["code"] == "PAYLOAD_TOO_LARGE" and body["details"]["maxBytes"] == MAX_PAYLOAD_BYTES
    assert _count(engine, workflow_runtime_events) == 0 and _count(engine, workflow_runs) == 0
    assert probe.worst < 2.0, probe.latencies


# --- the command line ----------------------------------------------------------------------------


def _cli_emit(tmp_path, *args: str, **env: str):
    from algaflow.cli.runs import events_app

    payload = tmp_path / "event.json"
    payload.write_text(json.dumps({"ticketId": TICKET_ID, "tenantId": ALGA_TENANT}))
    return CliRunner().invoke(
        events_app,
        ["emit", "TICKET_UPDATED", "--payload", str(payload), "--wait", *args],
        env=env,
    )


def _input_of(engine, run_id):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(workflow_runs.c.input_json).where(workflow_runs.c.run_id == run_id)
        ).scalar_one()


def test_cli_events_emit_on_a_server_fills_the_envelope(server, engine, tenant, tmp_path):
    out = _cli_emit(tmp_path, "--payload-schema-ref", TICKET, ALGAFLOW_URL=str(server.base_url),
                    ALGAFLOW_API_KEY=server.headers["x-api-key"])  # fmt: skip
    assert out.exit_code == 0, out.output
    [run_id] = json.loads(out.output)["startedRuns"]
    filled = _input_of(engine, run_id)
    assert filled["tenantId"] == tenant and filled["actorType"] == "SYSTEM"


def test_cli_events_emit_on_a_database_fills_the_envelope(engine, db_url, schema_dir, tmp_path):
    with engine.begin() as conn:
        default = ensure_tenant(conn)["id"]
    _publish(engine, default)
    env = {"ALGAFLOW_DATABASE_URL": db_url, "ALGAFLOW_SCHEMA_DIRS": str(schema_dir)}
    out = _cli_emit(tmp_path, "--payload-schema-ref", TICKET, **env)
    assert out.exit_code == 0, out.output
    [run_id] = json.loads(out.output)["startedRuns"]
    filled = _input_of(engine, run_id)
    assert (
        filled["tenantId"] == default and filled["occurredAt"] and filled["ticketId"] == TICKET_ID
    )
    refused = _cli_emit(tmp_path, "--payload-schema-ref", "payload.Nope.v1", **env)
    assert refused.exit_code != 0 and "UNKNOWN_PAYLOAD_SCHEMA_REF" in refused.output
