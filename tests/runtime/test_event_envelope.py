"""Events as Alga's clients send them (both databases): the envelope is filled from the caller's
context, errors name ``schemaRef``, event payloads obey the 512 KiB limit, and the workflows an
event starts are found by an indexed lookup whose cost does not grow with unrelated workflows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event as sa_event
from tests.fixtures.workflows import ALGA_TENANT, TICKET, TICKET_ID, TICKET_SCHEMA

from algaflow.api.statuses import status_for
from algaflow.kernel.clock import frozen
from algaflow.kernel.errors import AlgaflowError
from algaflow.runtime.envelope import fill_envelope
from algaflow.services.events import emit_event
from algaflow.services.run_inputs import MAX_PAYLOAD_BYTES
from algaflow.services.runs import start_run
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.run_tables import workflow_runs, workflow_runtime_events
from algaflow.store.tables import (
    version_trigger_event,
    workflow_definition_versions,
    workflow_definitions,
    workflow_trigger_event,
)
from algaflow.store.workflows import insert_version, triggered_candidates

from .conftest import publish

NOW = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
TRIGGER = {"type": "event", "eventName": "TICKET_UPDATED"}


@pytest.fixture
def ticket_registry(registry):
    registry.schemas.register(TICKET, TICKET_SCHEMA)
    return registry


@pytest.fixture
def ticket_workflow(engine, tenant, ticket_registry):
    with engine.begin() as conn:
        return publish(conn, tenant, [], key="on-ticket", trigger=TRIGGER, schema_ref=TICKET)


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def _refused(call) -> AlgaflowError:
    with pytest.raises(AlgaflowError) as caught:
        call()
    return caught.value


def _emit(engine, tenant, registry, payload, **kw):
    with frozen(now=lambda: NOW):
        return emit_event(UnitOfWork(engine), tenant, "TICKET_UPDATED", payload,
                          registry=registry, **kw, wait=True)  # fmt: skip


def _run_input(engine, run_id):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(workflow_runs.c.input_json).where(workflow_runs.c.run_id == run_id)
        ).scalar_one()


# --- 1: the envelope -----------------------------------------------------------------------------


def test_a_domain_only_event_starts_the_run_with_the_envelope_filled(
    engine, tenant, ticket_registry, ticket_workflow
):
    payload = {"ticketId": TICKET_ID, "changes": {}}
    result = _emit(engine, tenant, ticket_registry, payload, payload_schema_ref=TICKET)
    assert "errors" not in result, result
    [run_id] = result["startedRuns"]
    assert _run_input(engine, run_id) == {
        "ticketId": TICKET_ID,
        "changes": {},
        "tenantId": tenant,
        "occurredAt": "2026-03-04T05:06:07.890Z",
        "actorType": "SYSTEM",
    }
    assert payload == {"ticketId": TICKET_ID, "changes": {}}  # the caller's dict is left alone


def test_a_payload_naming_another_tenant_gets_the_callers_tenant(
    engine, tenant, ticket_registry, ticket_workflow
):
    result = _emit(engine, tenant, ticket_registry,
                   {"ticketId": TICKET_ID, "tenantId": ALGA_TENANT})  # fmt: skip
    [run_id] = result["startedRuns"]
    assert _run_input(engine, run_id)["tenantId"] == tenant
    with engine.connect() as conn:
        stored = conn.execute(sa.select(workflow_runtime_events.c.payload)).scalar_one()
    assert stored["tenantId"] == tenant


def test_what_the_caller_sent_wins_over_the_defaults(
    engine, tenant, ticket_registry, ticket_workflow
):
    user = "7d3f2a1b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
    sent = {"ticketId": TICKET_ID, "occurredAt": "2025-01-01T00:00:00Z", "actorType": "USER",
            "actorUserId": user}  # fmt: skip
    [run_id] = _emit(engine, tenant, ticket_registry, sent)["startedRuns"]
    assert _run_input(engine, run_id) == {**sent, "tenantId": tenant}


def test_an_actor_given_in_part_is_not_completed(engine, tenant, ticket_registry, ticket_workflow):
    """``actorUserId`` alone: no ``actorType`` is made up, so the schema requiring it refuses."""
    sent = {"ticketId": TICKET_ID, "actorUserId": "7d3f2a1b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"}
    error = _refused(lambda: _emit(engine, tenant, ticket_registry, sent,
                                   payload_schema_ref=TICKET))  # fmt: skip
    assert error.code == "PAYLOAD_VALIDATION_FAILED"
    assert [i["path"] for i in error.details["issues"]] == [""]  # the root misses actorType


def test_the_service_function_fills_the_envelope_too(engine, tenant, ticket_registry):
    """Library callers call the service directly, with an actor of their own."""
    with engine.begin() as conn:
        publish(conn, tenant, [], key="on-ticket", trigger=TRIGGER, schema_ref=TICKET)
    with frozen(now=lambda: NOW):
        result = emit_event(UnitOfWork(engine), tenant, "TICKET_UPDATED", {"ticketId": TICKET_ID},
                            registry=ticket_registry, payload_schema_ref=TICKET,
                            actor={"actorType": "CONTACT"}, wait=True)  # fmt: skip
    [run_id] = result["startedRuns"]
    assert _run_input(engine, run_id)["actorType"] == "CONTACT"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.sampled_from(["tenantId", "occurredAt", "actorType", "actorUserId",
                                        "actorContactId", "x", "ticketId"]), JSON))  # fmt: skip
def test_fill_envelope_properties(payload):
    filled = fill_envelope(payload, tenant_id="t-1", now=NOW)
    assert filled["tenantId"] == "t-1"
    assert filled["occurredAt"] == payload.get("occurredAt", "2026-03-04T05:06:07.890Z")
    for key, value in payload.items():
        if key != "tenantId":
            assert filled[key] == value
    actor_sent = {"actorType", "actorUserId", "actorContactId"} & payload.keys()
    if actor_sent:
        assert "actorType" not in filled or "actorType" in payload
    else:
        assert filled["actorType"] == "SYSTEM"
    assert set(filled) - set(payload) <= {"tenantId", "occurredAt", "actorType"}


@given(JSON.filter(lambda v: not isinstance(v, dict)))
def test_a_payload_that_is_no_object_is_left_as_sent(payload):
    assert fill_envelope(payload, tenant_id="t-1", now=NOW) == payload


# --- 2: error details name the schema as Alga does ----------------------------------------------


def test_an_unknown_schema_ref_is_named_schema_ref(engine, tenant, ticket_registry):
    error = _refused(lambda: _emit(engine, tenant, ticket_registry, {},
                                   payload_schema_ref="payload.Nope.v1"))  # fmt: skip
    assert (error.code, status_for(error.code)) == ("UNKNOWN_PAYLOAD_SCHEMA_REF", 400)
    assert error.details == {"schemaRef": "payload.Nope.v1"}
    assert _count(engine, workflow_runtime_events) == 0


def test_an_invalid_payload_names_schema_ref_and_issues(engine, tenant, ticket_registry):
    error = _refused(lambda: _emit(engine, tenant, ticket_registry, {"ticketId": "no"},
                                   payload_schema_ref=TICKET))  # fmt: skip
    assert (error.code, status_for(error.code)) == ("PAYLOAD_VALIDATION_FAILED", 400)
    assert error.details["schemaRef"] == TICKET
    assert [i["path"] for i in error.details["issues"]] == ["/ticketId"]
    assert _count(engine, workflow_runtime_events) == 0


def test_a_refused_run_start_names_schema_ref(engine, tenant, ticket_registry, ticket_workflow):
    error = _refused(lambda: start_run(UnitOfWork(engine), tenant, ticket_workflow,
                                               registry=ticket_registry, payload={}))  # fmt: skip
    assert error.code == "PAYLOAD_VALIDATION_FAILED"
    assert error.details["schemaRef"] == TICKET and error.details["issues"]


# --- 3: the payload limit ------------------------------------------------------------------------


def test_an_event_payload_over_512_kib_is_refused_before_any_write(
    engine, tenant, ticket_registry, ticket_workflow
):
    big = {"ticketId": TICKET_ID, "blob": "é" * (MAX_PAYLOAD_BYTES // 2)}  # > 512 KiB of UTF-8
    error = _refused(lambda: _emit(engine, tenant, ticket_registry, big))
    assert (error.code, status_for(error.code)) == ("PAYLOAD_TOO_LARGE", 413)
    assert error.details["maxBytes"] == MAX_PAYLOAD_BYTES
    assert _count(engine, workflow_runtime_events) == 0 and _count(engine, workflow_runs) == 0


def test_an_event_payload_just_under_the_limit_is_accepted(
    engine, tenant, ticket_registry, ticket_workflow
):
    filler = MAX_PAYLOAD_BYTES - len('{"ticketId": "", "blob": ""}') - len(TICKET_ID)
    result = _emit(engine, tenant, ticket_registry, {"ticketId": TICKET_ID, "blob": "x" * filler})
    assert len(result["startedRuns"]) == 1


# --- 4: the trigger lookup -----------------------------------------------------------------------


def _publish_many(engine, tenant, count: int, start: int = 0) -> None:
    with engine.begin() as conn:
        for i in range(start, start + count):
            publish(conn, tenant, [], key=f"other-{i:04d}",
                    trigger={"type": "event", "eventName": f"OTHER_{i}"})  # fmt: skip


def _statements(engine, tenant, registry) -> list[str]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        result = _emit(engine, tenant, registry, {"ticketId": TICKET_ID})
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
    assert len(result["startedRuns"]) == 1
    return seen


def test_unrelated_published_workflows_add_no_query_and_are_never_read(
    engine, tenant, ticket_registry, ticket_workflow
):
    _publish_many(engine, tenant, 1)
    few = _statements(engine, tenant, ticket_registry)
    _publish_many(engine, tenant, 40, start=1)
    many = _statements(engine, tenant, ticket_registry)
    assert len(many) == len(few)
    version_reads = [s for s in many if "FROM workflow_definition_versions" in s]
    # the indexed candidate lookup, and the matching workflow's latest version (plus the run's)
    assert len(version_reads) <= 3


def test_candidates_follow_the_latest_published_trigger(engine, tenant, ticket_registry):
    """Triggers are read from the latest version, else the workflow row (as before the index)."""
    with engine.begin() as conn:
        moved = publish(conn, tenant, [], key="moved", trigger=TRIGGER, schema_ref=TICKET)
        insert_version(conn, tenant, moved, version=2, definition_json={
            "id": moved, "version": 2, "name": "moved", "payloadSchemaRef": TICKET, "steps": [],
            "trigger": {"type": "event", "eventName": "TICKET_CLOSED"}})  # fmt: skip
        row_only = publish(conn, tenant, [], key="row-only", schema_ref=TICKET)
        conn.execute(workflow_definitions.update()
                     .where(workflow_definitions.c.workflow_id == row_only)
                     .values(trigger=TRIGGER))  # fmt: skip
        paused = publish(conn, tenant, [], key="paused", trigger=TRIGGER, schema_ref=TICKET,
                         paused=True)  # fmt: skip
        assert set(triggered_candidates(conn, tenant, "TICKET_UPDATED")) == {
            moved,
            row_only,
            paused,
        }
    result = _emit(engine, tenant, ticket_registry, {"ticketId": TICKET_ID})
    [run_id] = result["startedRuns"]
    with engine.connect() as conn:
        started = conn.execute(
            sa.select(workflow_runs.c.workflow_id).where(workflow_runs.c.run_id == run_id)
        ).scalar_one()
    assert started == row_only


def test_candidates_are_per_tenant(engine, tenant, other_tenant, ticket_registry):
    with engine.begin() as conn:
        publish(conn, other_tenant, [], key="theirs", trigger=TRIGGER, schema_ref=TICKET)
        assert triggered_candidates(conn, tenant, "TICKET_UPDATED") == []


def _plan(conn, query) -> str:
    if conn.dialect.name == "sqlite":
        compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
        return "\n".join(str(r[-1]) for r in rows)
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # tiny tables: make the index count
    compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
    return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}").all())


@pytest.mark.parametrize(
    ("table", "expression", "index"),
    [
        (workflow_definition_versions, version_trigger_event,
         "ix_workflow_definition_versions_trigger_event"),
        (workflow_definitions, workflow_trigger_event, "ix_workflow_definitions_trigger_event"),
    ],
)  # fmt: skip
def test_the_trigger_lookup_uses_its_index(engine, tenant, table, expression, index):
    _publish_many(engine, tenant, 5)
    query = sa.select(table.c.workflow_id).where(
        table.c.tenant == tenant, expression() == "TICKET_UPDATED"
    )
    with engine.begin() as conn:
        plan = _plan(conn, query)
    assert index in plan, plan
