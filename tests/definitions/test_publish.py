"""Publish on both databases: version allocation, nothing written on errors, the draft bump,
time-trigger stripping, inferred payload schemas and the validation columns."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from algaflow.api.statuses import status_for
from algaflow.definitions import codes
from algaflow.definitions.publish import requested_version
from algaflow.definitions.schemawalk import schema_hash
from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import ActionDef, Registry, default_registry
from algaflow.services.definitions import publish_on
from algaflow.store import workflows as store
from algaflow.store.tables import workflow_definition_versions, workflow_definitions

ACTOR = "00000000-0000-4000-8000-000000000001"
SCHEMA = {
    "type": "object",
    "properties": {"ticketId": {"type": "string"}, "b": {"type": "object"}},
    "required": ["ticketId"],
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    reg = default_registry()
    obj = {"type": "object"}
    reg.actions.register(ActionDef("demo.send", 1, obj, obj, lambda args, ctx: {}))
    reg.schemas.register("payload.Demo.v1", SCHEMA)
    reg.schemas.register("payload.Source.v1", {"type": "object"})
    return reg


def _definition(*steps: Any, **top: Any) -> dict[str, Any]:
    base = {
        "id": "ignored",
        "version": 1,
        "name": "Demo",
        "description": "A demo",
        "payloadSchemaRef": "payload.Demo.v1",
        "steps": list(steps) or [{"id": "done", "type": "control.return"}],
    }
    return {**base, **top}


def _create(conn, tenant, definition=None, key="demo.publish", **kw) -> dict[str, Any]:
    definition = definition or _definition()
    return store.create_workflow(
        conn,
        tenant,
        key=key,
        name=definition.get("name", "x"),
        payload_schema_ref=definition.get("payloadSchemaRef") or "payload.Demo.v1",
        definition=definition,
        **kw,
    )


def _snapshot(engine, workflow_id):
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(workflow_definitions).where(
                    workflow_definitions.c.workflow_id == workflow_id
                )
            )
            .mappings()
            .one()
        )
        versions = conn.execute(sa.select(workflow_definition_versions)).mappings().all()
    return dict(row), [dict(v) for v in versions]


def test_publish_draft_writes_version_and_bumps_draft(engine, tenant, registry):
    with engine.begin() as conn:
        wf = _create(conn, tenant)
        result = publish_on(conn, tenant, wf.workflow_id, registry=registry, actor=ACTOR)
    assert result == {"ok": True, "publishedVersion": 1, "errors": [], "warnings": []}
    row, (version,) = _snapshot(engine, wf.workflow_id)
    wid = wf.workflow_id
    assert version["version"] == 1 and version["tenant"] == tenant
    assert version["definition_json"] == {**_definition(), "id": wid}
    assert version["validation_status"] == "valid"
    assert version["validation_errors"] == [] and version["validation_warnings"] == []
    assert version["published_by"] == ACTOR and version["validated_at"] is not None
    snapshot = version["payload_schema_json"]
    assert snapshot["$ref"] == "#/definitions/payload.Demo.v1"
    assert snapshot["definitions"]["payload.Demo.v1"]["required"] == ["ticketId"]
    assert list(snapshot) == sorted(snapshot)
    assert row["status"] == "published"
    assert row["draft_version"] == 2
    assert row["draft_definition"] == {**_definition(), "id": wid, "version": 2}
    assert (row["name"], row["description"], row["trigger"]) == ("Demo", "A demo", None)
    assert row["payload_schema_ref"] == "payload.Demo.v1"
    assert row["payload_schema_provenance"] == "pinned"
    assert row["validation_status"] == "valid"
    assert (row["validation_errors"], row["validation_warnings"]) == ([], [])
    assert row["validation_payload_schema_hash"] == schema_hash(snapshot)
    assert row["validation_context_json"] == {
        "payloadSchemaRef": "payload.Demo.v1",
        "payloadSchemaHash": schema_hash(snapshot),
        "triggerSourceSchemaRef": None,
        "triggerSchemaRefStatus": None,
    }
    assert row["validated_at"] is not None and row["updated_by"] == ACTOR


def test_version_allocation_allows_gaps_but_never_goes_back(engine, tenant, registry):
    published = []
    with engine.begin() as conn:
        wid = _create(conn, tenant).workflow_id
        for requested in (None, None, 5, None, 3, "9", 9.0):
            result = publish_on(conn, tenant, wid, registry=registry, version=requested)
            published.append(result["publishedVersion"])
        versions = [v["version"] for v in store.list_versions(conn, tenant, wid)]
        stored = store.get_version(conn, tenant, wid, 7).definition_json["version"]
    assert published == [1, 2, 5, 6, 7, 9, 10]
    assert versions == published and stored == 7


@pytest.mark.parametrize("bad", ["abc", 0, -1, 1.5, True, "1.0", [1]])
def test_malformed_version_is_refused(bad):
    with pytest.raises(AlgaflowError) as caught:
        requested_version(bad)
    assert caught.value.code == "INVALID_FIELD"


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (
            _definition(
                {"id": "x", "type": "action.call", "config": {"actionId": "no", "version": 1}}
            ),
            codes.UNKNOWN_ACTION,
        ),
        (["not", "an", "object"], codes.INVALID_WORKFLOW_DEFINITION),
    ],
)
def test_errors_are_returned_and_nothing_is_written(engine, tenant, registry, bad, code):
    with engine.begin() as conn:
        wid = _create(conn, tenant).workflow_id
    before = _snapshot(engine, wid)
    with engine.begin() as conn:
        result = publish_on(conn, tenant, wid, registry=registry, definition=bad)
    assert result["ok"] is False and "publishedVersion" not in result
    assert [e["code"] for e in result["errors"]] == [code]
    assert _snapshot(engine, wid) == before


def test_explicit_definition_is_published_as_sent_with_id_and_version_forced(
    engine, tenant, registry
):
    sent = _definition(
        {"id": "a", "type": "action.call", "config": {"actionId": "demo.send", "version": 1}},
        name="Renamed",
        version=42,
        trigger={"type": "event", "eventName": "TICKET_CREATED"},
    )
    original = copy.deepcopy(sent)
    with engine.begin() as conn:
        wid = _create(conn, tenant).workflow_id
        result = publish_on(conn, tenant, wid, registry=registry, definition=sent)
        row = store.get_workflow(conn, tenant, wid)
        version = store.get_version(conn, tenant, wid, 1)
    assert sent == original  # the caller's object is not modified
    assert result["publishedVersion"] == 1
    assert version.definition_json == {**sent, "id": wid, "version": 1}
    assert row.name == "Renamed"
    assert row.trigger == {"type": "event", "eventName": "TICKET_CREATED"}
    assert row.validation_context_json["triggerSchemaRefStatus"] == "known"


@pytest.mark.parametrize(
    "trigger",
    [
        {"type": "schedule", "runAt": "2020-01-01T00:00:00Z"},
        {"type": "recurring", "cron": "* * * * *", "timezone": "Nowhere/Never"},
    ],
)
def test_time_triggers_are_stripped_before_validation(engine, tenant, registry, trigger):
    with engine.begin() as conn:
        wid = _create(conn, tenant, _definition(trigger=trigger)).workflow_id
        result = publish_on(conn, tenant, wid, registry=registry)
        row = store.get_workflow(conn, tenant, wid)
        version = store.get_version(conn, tenant, wid, 1)
    assert result["ok"] is True
    assert "trigger" not in version.definition_json
    assert "trigger" not in row.draft_definition and row.trigger is None


def test_warnings_publish_with_status_warning(engine, tenant, registry):
    wait = {
        "id": "w",
        "type": "event.wait",
        "config": {"eventName": "TICKET_UPDATED", "correlationKey": {"$expr": "payload.ticketId"}},
    }
    with engine.begin() as conn:
        wid = _create(conn, tenant, _definition(wait)).workflow_id
        result = publish_on(conn, tenant, wid, registry=registry)
        row = store.get_workflow(conn, tenant, wid)
        version = store.get_version(conn, tenant, wid, 1)
    assert result["ok"] is True
    assert [w["code"] for w in result["warnings"]] == [codes.EVENT_WAIT_CORRELATION_CONTRACT]
    assert row.validation_status == version.validation_status == "warning"
    assert row.validation_warnings == version.validation_warnings == result["warnings"]


def test_inferred_mode_takes_the_schema_from_the_event_trigger(engine, tenant, registry):
    trigger = {
        "type": "event",
        "eventName": "SOMETHING",
        "sourcePayloadSchemaRef": "payload.Source.v1",
    }
    with engine.begin() as conn:
        wid = _create(conn, tenant, _definition(trigger=trigger), payload_schema_mode="inferred")[
            "workflow_id"
        ]
        result = publish_on(conn, tenant, wid, registry=registry)
        row = store.get_workflow(conn, tenant, wid)
        version = store.get_version(conn, tenant, wid, 1)
    assert result["ok"] is True
    assert version.definition_json["payloadSchemaRef"] == "payload.Source.v1"
    assert "payload.Source.v1" in version.payload_schema_json["definitions"]
    assert row.payload_schema_ref == "payload.Source.v1"
    assert row.payload_schema_provenance == "inferred"


def test_inferred_mode_without_event_trigger_writes_nothing(engine, tenant, registry):
    with engine.begin() as conn:
        wid = _create(conn, tenant, payload_schema_mode="inferred").workflow_id
    before = _snapshot(engine, wid)
    with engine.begin() as conn:
        result = publish_on(conn, tenant, wid, registry=registry)
    assert result["ok"] is False
    assert [e["code"] for e in result["errors"]] == [
        codes.PAYLOAD_SCHEMA_INFERENCE_UNSUPPORTED_TRIGGER
    ]
    assert _snapshot(engine, wid) == before


def test_unregistered_payload_schema_is_an_error(engine, tenant, registry):
    with engine.begin() as conn:
        wid = _create(conn, tenant, _definition(payloadSchemaRef="payload.Unknown.v1"))[
            "workflow_id"
        ]
        result = publish_on(conn, tenant, wid, registry=registry)
    assert {e["code"] for e in result["errors"]} == {
        codes.PAYLOAD_SCHEMA_REF_UNKNOWN,
        codes.UNKNOWN_PAYLOAD_SCHEMA_REF,
    }


def test_other_tenants_workflow_is_not_found(engine, tenant, other_tenant, registry):
    with engine.begin() as conn:
        wid = _create(conn, tenant).workflow_id
    with engine.begin() as conn, pytest.raises(AlgaflowError) as caught:
        publish_on(conn, other_tenant, wid, registry=registry)
    assert caught.value.code == "WORKFLOW_NOT_FOUND" and status_for(caught.value.code) == 404
    with engine.begin() as conn, pytest.raises(AlgaflowError) as missing:
        publish_on(conn, tenant, str(uuid.uuid4()), registry=registry)
    assert missing.value.code == "WORKFLOW_NOT_FOUND"


def test_every_corpus_definition_publishes_cleanly(
    engine, tenant, corpus_definitions, corpus_registry
):
    failures = {}
    with engine.begin() as conn:
        for index, (label, definition) in enumerate(corpus_definitions):
            wid = _create(conn, tenant, definition, key=f"corpus.{index}").workflow_id
            result = publish_on(conn, tenant, wid, registry=corpus_registry)
            if not result["ok"]:
                failures[label] = result["errors"]
                continue
            stored = store.get_version(conn, tenant, wid, 1).definition_json
            assert stored == {**definition, "id": wid, "version": 1}
    assert failures == {}
