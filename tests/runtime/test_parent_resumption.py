"""A parent resumes when the child it awaits ends: driven by whoever drives (never inside the
delivery's transaction), and by the worker only for that child (both databases)."""

from __future__ import annotations

import sqlalchemy as sa

from algaflow.runtime.embedded.driver import Driver
from algaflow.services.due_work import drive_runs, run_due_work
from algaflow.services.events import emit_event
from algaflow.services.runs import get_run, list_runs, start_run
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.engine import write_connection
from algaflow.store.run_tables import workflow_runs

from .conftest import call, expr, publish
from .killed_process import killed_before_driving


def _wait(**config):
    return {"id": "w", "type": "event.wait",
            "config": {"eventName": "GO", "correlationKey": expr("'k'"), **config}}  # fmt: skip


def _child_call(child: str, **extra):
    return {"id": "c", "type": "control.callWorkflow", "workflowId": child, "workflowVersion": 1,
            **extra}  # fmt: skip


def _family(engine, tenant, child_steps, parent_steps):
    with engine.begin() as conn:
        child = publish(conn, tenant, child_steps, key="child")
        parent = publish(conn, tenant, parent_steps(child), key="parent")
    return child, parent


def _runs(engine, tenant):
    return {
        ("child" if r["parentRunId"] else "parent"): r
        for r in list_runs(UnitOfWork(engine), tenant)
    }


def test_the_delivery_only_wakes_the_parent_its_event_ended_the_child_of(
    engine, tenant, registry, actions
):
    """The child's resolved wait ends it (a failing assign); the delivery's transaction only
    wakes its parent, which is driven afterwards (here: the process dies in between)."""
    failing = _wait(assign={"vars.x": expr("$number('abc')")})
    _, parent = _family(
        engine, tenant, [failing],
        lambda child: [{"id": "t", "type": "control.tryCatch", "try": [_child_call(child)],
                        "catch": []}, call("after")],
    )  # fmt: skip
    assert start_run(UnitOfWork(engine), tenant, parent, registry=registry)["status"] == "WAITING"
    left = killed_before_driving(
        lambda: emit_event(UnitOfWork(engine), tenant, "GO", {}, correlation_key="k",
                           registry=registry, wait=True)
    )  # fmt: skip
    assert actions.called("test.echo") == []  # nothing ran inside the delivery's transaction
    runs = _runs(engine, tenant)
    assert left == [runs["parent"]["runId"]]
    assert runs["child"]["status"] == "FAILED"
    assert runs["parent"]["status"] == "RUNNING"  # woken, for a driver to take
    drive_runs(UnitOfWork(engine), tenant, [runs["parent"]["runId"]], registry=registry)
    assert _runs(engine, tenant)["parent"]["status"] == "SUCCEEDED"
    assert len(actions.called("test.echo")) == 1


def test_the_durable_emit_drives_the_parent_its_event_woke(engine, tenant, registry, actions):
    _, parent = _family(
        engine, tenant, [_wait(assign={"vars.x": expr("$number('abc')")})],
        lambda child: [{"id": "t", "type": "control.tryCatch", "try": [_child_call(child)],
                        "catch": []}, call("after")],
    )  # fmt: skip
    start_run(UnitOfWork(engine), tenant, parent, registry=registry)
    emit_event(
        UnitOfWork(engine), tenant, "GO", {}, correlation_key="k", registry=registry, wait=True
    )
    assert _runs(engine, tenant)["parent"]["status"] == "SUCCEEDED"
    assert len(actions.called("test.echo")) == 1


def _updated_at(engine, run_id):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(workflow_runs.c.updated_at).where(workflow_runs.c.run_id == run_id)
        ).scalar_one()


def test_a_worker_pass_leaves_a_parent_whose_child_still_waits(engine, tenant, registry, actions):
    """A retried child: the first child FAILED, the parent awaits the second, which waits."""
    calls = []

    def fails_first(args, ctx):
        calls.append(ctx.run_id)
        if len(calls) == 1:
            raise RuntimeError("first child fails")
        return {}

    actions.add("test.flaky", fails_first)
    _, parent = _family(
        engine,
        tenant,
        [call("a", "test.flaky"), _wait()],
        lambda child: [_child_call(child, retry={"maxAttempts": 2, "backoffMs": 0})],
    )
    out = start_run(UnitOfWork(engine), tenant, parent, registry=registry)
    assert out["status"] == "WAITING"
    before = _updated_at(engine, out["runId"])
    for _ in range(2):
        assert run_due_work(UnitOfWork(engine), registry=registry) == 0
    assert _updated_at(engine, out["runId"]) == before
    statuses = sorted(r["status"] for r in list_runs(UnitOfWork(engine), tenant))
    assert statuses == ["FAILED", "WAITING", "WAITING"]
    emit_event(
        UnitOfWork(engine), tenant, "GO", {}, correlation_key="k", registry=registry, wait=True
    )
    assert get_run(UnitOfWork(engine), tenant, out["runId"])["status"] == "SUCCEEDED"


def test_a_worker_pass_resumes_a_parent_nobody_resumed(engine, tenant, registry, actions):
    """The child ended, but its process died before waking the parent."""
    _, parent = _family(engine, tenant, [_wait()], lambda child: [_child_call(child),
                                                                  call("after")])  # fmt: skip
    start_run(UnitOfWork(engine), tenant, parent, registry=registry)
    killed_before_driving(
        lambda: emit_event(UnitOfWork(engine), tenant, "GO", {}, correlation_key="k",
                           registry=registry, wait=True)
    )  # fmt: skip
    child = _runs(engine, tenant)["child"]["runId"]
    with write_connection(engine) as conn:  # the child ends; nobody wakes its parent
        Driver(conn, registry, durable=True).drive(tenant, child, resume_parent=False)
    runs = _runs(engine, tenant)
    assert (runs["child"]["status"], runs["parent"]["status"]) == ("SUCCEEDED", "WAITING")
    assert run_due_work(UnitOfWork(engine), registry=registry) == 1
    assert _runs(engine, tenant)["parent"]["status"] == "SUCCEEDED"
    assert len(actions.called("test.echo")) == 1
