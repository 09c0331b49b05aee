"""``$nowIso()`` over real HTTP, on both databases: a trigger's payload mapping runs at the time
the event arrives, and expressions inside a run (a node handler's included) run at their step's
time, never failing for want of one."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from tests.fixtures.workflows import publish_definition, registry_from_schema_dir, write_schema_dir

from algaflow.store.api_keys import create_api_key

SCHEMA_REF = "payload.Stamped.v1"
EVENT_REF = "payload.StampRequested.v1"
SCHEMA = {
    "type": "object",
    "properties": {"stampedAt": {"type": "string", "format": "date-time"}},
    "required": ["stampedAt"],
}


def expr(source: str) -> dict[str, str]:
    return {"$expr": source}


@pytest.fixture
def registry(tmp_path):
    schemas = {SCHEMA_REF: SCHEMA, EVENT_REF: {"type": "object"}}
    return registry_from_schema_dir(write_schema_dir(tmp_path / "schemas", schemas))


def _publish(engine, tenant: str) -> None:
    definition = {
        "id": "x",
        "version": 1,
        "name": "stamped",
        "payloadSchemaRef": SCHEMA_REF,
        "trigger": {
            "type": "event",
            "eventName": "STAMP",
            "sourcePayloadSchemaRef": EVENT_REF,
            "payloadMapping": {"stampedAt": expr("$nowIso()")},
        },
        "steps": [
            {
                "id": "when",
                "type": "control.if",
                "condition": expr("$nowIso() >= payload.stampedAt"),
                "then": [
                    {
                        "id": "note",
                        "type": "transform.assign",
                        "config": {"assign": {"vars.seenAt": expr("$nowIso()")}},
                    }
                ],
            }
        ],
    }
    publish_definition(engine, tenant, "stamped", definition)


def _instant(text: str) -> datetime:
    assert text.endswith("Z") and len(text) == 24, text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_now_iso_in_a_trigger_mapping_and_a_node_handler(live_server, engine, tenant):
    _publish(engine, tenant)
    with engine.begin() as conn:
        _, key = create_api_key(
            conn, tenant, name="k", permissions=("workflow:run", "workflow:read")
        )
    event = {"eventName": "STAMP", "payloadSchemaRef": EVENT_REF, "payload": {}}
    before = datetime.now(UTC).replace(microsecond=0)
    with httpx.Client(base_url=live_server, headers={"x-api-key": key}, timeout=30) as client:
        response = client.post("/api/workflow/events?wait=true", json=event)
        assert response.status_code == 200, response.text
        [run_id] = response.json()["startedRuns"]
        run = client.get(f"/api/workflow-runs/{run_id}").json()
    after = datetime.now(UTC)
    assert run["status"] == "SUCCEEDED", run["error"]
    stamped = _instant(run["input"]["stampedAt"])
    seen = _instant(run["vars"]["seenAt"])
    assert before <= stamped <= seen <= after
