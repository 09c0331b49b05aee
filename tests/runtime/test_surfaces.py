"""The HTTP routes and CLI commands call the same run services (both databases)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from algaflow.api.app import create_app
from algaflow.api.routes import runs as run_routes
from algaflow.config import Settings
from algaflow.store.api_keys import create_api_key

from .conftest import call, expr, publish


@pytest.fixture
def client(engine, db_url, tenant, registry, actions):
    app = create_app(Settings(database_url=db_url), engine=engine, registry=registry)
    if not any(getattr(r, "path", "") == "/api/workflow-runs" for r in app.routes):
        app.include_router(run_routes.router, prefix="/api")
    with engine.begin() as conn:
        _, secret = create_api_key(conn, tenant, name="t", permissions=("workflow:admin",))
    with TestClient(app, raise_server_exceptions=False) as c:
        c.headers["Authorization"] = f"Bearer {secret}"
        yield c


def test_http_start_show_list_cancel_events_tasks(client, engine, tenant, actions):
    steps = [
        call("a", inputMapping={"n": expr("payload.n")}, saveAs="a"),
        {"id": "ask", "type": "human.task", "config": {"taskType": "t", "title": expr("'T'")}},
        {"id": "wait", "type": "event.wait",
         "config": {"eventName": "GO", "correlationKey": expr("'k'")}},
    ]  # fmt: skip
    with engine.begin() as conn:
        wf = publish(conn, tenant, steps)
    started = client.post("/api/workflow-runs", json={"workflowId": wf, "payload": {"n": 1}})
    assert started.status_code == 201, started.text
    run = started.json()
    assert run["status"] == "WAITING" and run["steps"][0]["status"] == "SUCCEEDED"
    tasks = client.get("/api/workflow/tasks").json()
    assert [t["runId"] for t in tasks] == [run["runId"]]
    done = client.post("/api/workflow/tasks", json={"taskId": tasks[0]["taskId"], "output": {}})
    assert done.status_code == 200 and done.json()["status"] == "COMPLETED"
    again = client.post("/api/workflow/tasks", json={"taskId": tasks[0]["taskId"]})
    assert again.status_code == 409 and again.json()["code"] == "TASK_ALREADY_COMPLETED"
    nothing = client.post(
        "/api/workflow/events?wait=true", json={"eventName": "GO", "correlationKey": "x"}
    )
    assert nothing.json()["status"] == "no_wait"
    resumed = client.post(
        "/api/workflow/events?wait=true", json={"eventName": "GO", "correlationKey": "k"}
    )
    assert resumed.json()["status"] == "resumed" and resumed.json()["runId"] == run["runId"]
    shown = client.get(f"/api/workflow-runs/{run['runId']}").json()
    assert shown["status"] == "SUCCEEDED" and len(shown["steps"]) == 3
    listed = client.get("/api/workflow-runs", params={"workflowId": wf, "status": "SUCCEEDED"})
    assert [r["runId"] for r in listed.json()] == [run["runId"]]
    refused = client.post(f"/api/workflow-runs/{run['runId']}/cancel")
    assert refused.status_code == 409
    missing = client.get("/api/workflow-runs/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.json()["code"] == "RUN_NOT_FOUND"


def test_http_payload_refusal_keeps_the_failed_run(client, engine, tenant, actions):
    with engine.begin() as conn:
        wf = publish(conn, tenant, [call("never")])
    response = client.post("/api/workflow-runs", json={"workflowId": wf, "payload": {"n": "x"}})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "PAYLOAD_VALIDATION_FAILED"
    failed = client.get(f"/api/workflow-runs/{body['details']['runId']}").json()
    assert failed["status"] == "FAILED" and actions.calls == []


def test_http_codes_for_inputs_that_used_to_answer_500(client, engine, tenant, other_tenant):
    wait = {"id": "w", "type": "time.wait",
            "config": {"mode": "until", "until": expr("payload.when")}}  # fmt: skip
    with engine.begin() as conn:
        wf = publish(conn, tenant, [wait])
        _, other_key = create_api_key(conn, other_tenant, name="o", permissions=("workflow:admin",))
    event_id = "22222222-2222-4222-8222-222222222222"
    assert (
        client.post(
            "/api/workflow/events?wait=true", json={"eventName": "GO", "eventId": event_id}
        ).status_code
        == 200
    )
    other = client.post("/api/workflow/events?wait=true",
                        json={"eventName": "GO", "eventId": event_id},
                        headers={"Authorization": f"Bearer {other_key}"})  # fmt: skip
    assert other.status_code == 200 and "duplicate" not in other.json()
    bad_id = client.post(
        "/api/workflow/events?wait=true", json={"eventName": "GO", "eventId": "abc"}
    )
    assert bad_id.status_code == 422 and bad_id.json()["code"] == "INVALID_FIELD"
    nul = client.post(
        "/api/workflow/events?wait=true", json={"eventName": "GO", "payload": {"a": "x\u0000"}}
    )
    assert nul.status_code == 400 and nul.json()["code"] == "UNSTORABLE_VALUE"
    started = client.post(
        "/api/workflow-runs",
        json={"workflowId": wf, "payload": {"when": "0001-01-01T00:00:00+01:00"}},
    )
    assert started.status_code == 201 and started.json()["status"] == "FAILED"  # fmt: skip
    listed = client.get("/api/workflow-runs", params={"workflowId": "abc"})
    assert listed.status_code == 200 and listed.json() == []


def test_cli_runs_events_tasks(engine, db_url, tenant, tmp_path, monkeypatch):
    from algaflow.cli.runs import events_app, runs_app, tasks_app

    monkeypatch.setenv("ALGAFLOW_DATABASE_URL", db_url)
    from algaflow.store.tenants import ensure_tenant

    with engine.begin() as conn:
        default = ensure_tenant(conn)["id"]
        wf = publish(conn, default, [
            {"id": "s", "type": "state.set", "config": {"state": "X"}},
            {"id": "w", "type": "event.wait",
             "config": {"eventName": "GO", "correlationKey": expr("payload.ticketId")}},
        ], schema_ref="payload.Empty.v1")  # fmt: skip
    runner = CliRunner()
    payload = tmp_path / "p.json"
    payload.write_text("{}")
    out = runner.invoke(runs_app, ["start", wf, "--payload", str(payload), "--json"])
    assert out.exit_code == 0, out.output
    run = json.loads(out.output)
    assert run["status"] == "FAILED"  # payload.ticketId is undefined: a clear, recorded failure
    out = runner.invoke(runs_app, ["list", "--json"])
    assert [r["runId"] for r in json.loads(out.output)] == [run["runId"]]
    out = runner.invoke(runs_app, ["show", run["runId"]])
    assert out.exit_code == 0 and "FAILED" in out.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"extra": 1}')
    out = runner.invoke(runs_app, ["start", wf, "--payload", str(bad)])
    assert out.exit_code != 0 and "PAYLOAD_VALIDATION_FAILED" in out.output
    out = runner.invoke(events_app, ["emit", "GO", "--payload", str(payload), "--wait"])
    assert out.exit_code == 0 and json.loads(out.output)["status"] == "no_wait"
    out = runner.invoke(tasks_app, ["list", "--json"])
    assert json.loads(out.output) == []
    out = runner.invoke(tasks_app, ["complete", "00000000-0000-4000-8000-000000000000"])
    assert out.exit_code != 0 and "TASK_NOT_FOUND" in out.output
    out = runner.invoke(runs_app, ["cancel", "nope"])
    assert out.exit_code != 0 and "RUN_NOT_FOUND" in out.output
