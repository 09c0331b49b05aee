"""Handlers that raise or hang, unknown steps, secrets, changed definitions: all recorded."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from algaflow.runtime.core.scopes import assign_to_scope_path
from algaflow.runtime.embedded.driver import DriverOptions
from algaflow.services.events import emit_event
from algaflow.services.runs import get_run, start_run
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.run_tables import workflow_action_invocations
from algaflow.store.tables import workflow_definition_versions

from .conftest import call, expr, publish


def start(engine, tenant, registry, steps, options=None, payload=None, key="wf"):
    with engine.begin() as conn:
        wf = publish(conn, tenant, steps, key=key)
    return start_run(UnitOfWork(engine), tenant, wf, registry=registry, options=options,
                     payload=payload or {})  # fmt: skip


def test_hanging_handler_times_out(engine, tenant, registry, actions):
    release = threading.Event()
    actions.add("test.hang", lambda args, ctx: release.wait(5) and {})
    out = start(engine, tenant, registry, [call("h", "test.hang")],
                options=DriverOptions(action_timeout_s=0.2))  # fmt: skip
    release.set()
    assert out["status"] == "FAILED"
    assert out["error"]["category"] == "TimeoutError"
    assert out["error"]["code"] == "ACTION_TIMEOUT"


def test_plain_exception_is_an_internal_action_error(engine, tenant, registry, actions):
    def boom(args, ctx):
        raise ValueError("kaput")

    actions.add("test.boom", boom)
    out = start(engine, tenant, registry, [call("b", "test.boom")])
    assert out["status"] == "FAILED"
    assert (out["error"]["category"], out["error"]["code"]) == ("ActionError", "INTERNAL_ERROR")
    assert out["error"]["message"] == "kaput"
    with engine.connect() as conn:
        row = conn.execute(sa.select(workflow_action_invocations)).mappings().one()
    assert row["status"] == "FAILED" and row["error_message"] == "kaput"


def test_unknown_action_and_node_type(engine, tenant, registry, actions):
    out = start(engine, tenant, registry, [call("x", "nope.nothing")])
    assert out["error"]["message"] == "Unknown action nope.nothing@1"
    out = start(engine, tenant, registry, [{"id": "n", "type": "custom.node"}], key="wf2")
    assert out["status"] == "FAILED" and "Unknown node type" in out["error"]["message"]


def test_resolved_secrets_are_redacted_in_stored_input(engine, tenant, registry, actions):
    class Secrets:
        def resolve(self, name, run_id):
            return "s3cr3t"

    step = call("s", inputMapping={"auth": {"$secret": "API_TOKEN"}, "plain": 1})
    out = start(engine, tenant, registry, [step], DriverOptions(secret_resolver=Secrets()))
    assert out["status"] == "SUCCEEDED"
    assert actions.called("test.echo") == [{"auth": "s3cr3t", "plain": 1}]
    with engine.connect() as conn:
        stored = conn.execute(sa.select(workflow_action_invocations.c.input_json)).scalar_one()
    assert stored == {"auth": "[REDACTED]", "plain": 1}


def test_a_changed_definition_fails_the_resumed_run(engine, tenant, registry, actions):
    wait = {"id": "w", "type": "event.wait",
            "config": {"eventName": "GO", "correlationKey": expr("'k'")}}  # fmt: skip
    out = start(engine, tenant, registry, [wait, call("after")])
    with engine.begin() as conn:
        versions = workflow_definition_versions
        definition = conn.execute(sa.select(versions.c.definition_json)).scalar_one()
        definition["steps"] = definition["steps"][:1]
        conn.execute(versions.update().values(definition_json=definition))
    emit_event(
        UnitOfWork(engine), tenant, "GO", {}, registry=registry, correlation_key="k", wait=True
    )
    out = get_run(UnitOfWork(engine), tenant, out["runId"])
    assert out["status"] == "FAILED"
    assert out["error"]["code"] == "DEFINITION_HASH_MISMATCH"
    assert actions.calls == []


_segment = st.text(alphabet="abcxyz", min_size=1, max_size=4)


@given(head=st.sampled_from(["payload", "vars", "meta", "local", "error", "other"]),
       rest=st.lists(_segment, min_size=1, max_size=3), value=st.integers())  # fmt: skip
def test_assign_to_scope_path_routing(head, rest, value):
    scopes = {"payload": {}, "workflow": {}, "lexical": [], "meta": {"state": "S"},
              "error": {"message": "e"}, "system": {}}  # fmt: skip
    assign_to_scope_path(scopes, ".".join([head, *rest]), value)
    target = scopes["payload"] if head == "payload" else scopes["workflow"]
    path = rest if head in ("payload", "vars", "meta", "local") else [head, *rest]
    node = target
    for part in path:
        node = node[part]
    assert node == value
    assert scopes["meta"] == {"state": "S"} and scopes["error"] == {"message": "e"}  # Q1 fixed
    pointer = {"payload": {}, "workflow": {}, "lexical": [], "meta": {}, "error": None,
               "system": {}}  # fmt: skip
    assign_to_scope_path(pointer, "/" + "/".join([head, *rest]), value)
    assert pointer["payload" if head == "payload" else "workflow"] == target
