"""Durable driving next to other writers: no transaction across handlers, STARTED invocation rows,
node handlers that outlive their step, and leases checked on every write (both databases)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from algaflow.kernel import clock
from algaflow.registry.nodes import NodeTypeDef
from algaflow.runtime.core.errors import StepFailure
from algaflow.runtime.embedded.driver import DriverOptions
from algaflow.services.due_work import run_due_work
from algaflow.services.runs import cancel_run, get_run, start_run
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.engine import make_engine, write_connection
from algaflow.store.run_tables import workflow_action_invocations as invocations
from algaflow.store.run_tables import workflow_runs
from algaflow.store.tenants import create_tenant

from .conftest import call, expr, publish

WAIT_S = 10  # generous bounds for thread hand-offs; the tests do not sleep them out


def _publish(engine, tenant, steps, key="wf"):
    with engine.begin() as conn:
        return publish(conn, tenant, steps, key=key)


def _invocations(engine):
    with engine.connect() as conn:
        return (
            conn.execute(sa.select(invocations).order_by(invocations.c.created_at)).mappings().all()
        )


# --- finding 1: no transaction is held while a handler runs ---------------------------------------


def test_a_write_elsewhere_while_an_action_runs_does_not_break_the_run(
    engine, tenant, registry, actions
):
    """SQLite used to keep the idempotency lookup's read snapshot open across the handler; any
    commit by another connection then made the invocation insert fail ("database is locked")."""
    calls = []

    def writes_elsewhere(args, ctx):
        calls.append(ctx.run_id)
        with engine.begin() as conn:
            create_tenant(conn, f"written-meanwhile-{len(calls)}")
        return {"ok": 1}

    actions.add("test.writer", writes_elsewhere)
    wf = _publish(engine, tenant, [call("a", "test.writer", saveAs="a"), call("b")])
    out = start_run(UnitOfWork(engine), tenant, wf, registry=registry)
    assert out["status"] == "SUCCEEDED", out["error"]
    assert out["vars"]["a"] == {"ok": 1}
    assert [s["status"] for s in out["steps"]] == ["SUCCEEDED", "SUCCEEDED"]
    assert len(calls) == 1


def test_write_connection_takes_the_sqlite_write_lock_at_begin(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/lock.db")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v INTEGER)")
    try:
        with write_connection(engine) as writer:
            writer.exec_driver_sql("SELECT count(*) FROM t").scalar()  # only read so far
            with engine.connect() as other:
                assert other.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0  # reads go on
                other.exec_driver_sql("PRAGMA busy_timeout=0")
                with pytest.raises(sa.exc.OperationalError, match="locked"):
                    other.exec_driver_sql("INSERT INTO t VALUES (1)")
                other.rollback()
                other.exec_driver_sql("PRAGMA busy_timeout=10000")
            writer.exec_driver_sql("INSERT INTO t VALUES (2)")  # never "database is locked"
            writer.commit()
    finally:
        engine.dispose()


# --- finding 3: explicit idempotency keys under concurrency and crashes ---------------------------


def test_two_runs_with_one_idempotency_key_run_the_handler_once(engine, tenant, registry, actions):
    started, release = threading.Event(), threading.Event()
    calls = []

    def pay(args, ctx):
        calls.append(ctx.run_id)
        started.set()
        assert release.wait(WAIT_S)
        return {"paid": "invoice-42"}

    actions.add("test.pay", pay)
    retry = {"maxAttempts": 2, "backoffMs": 1000, "retryOn": ["TransientError"]}
    step = call("pay", "test.pay", idempotencyKey=expr("'invoice-42'"), retry=retry, saveAs="p")
    wf = _publish(engine, tenant, [step])
    first: dict = {}
    thread = threading.Thread(
        target=lambda: first.update(start_run(UnitOfWork(engine), tenant, wf, registry=registry))
    )
    thread.start()
    try:
        assert started.wait(WAIT_S)
        second = start_run(UnitOfWork(engine), tenant, wf, registry=registry)
    finally:
        release.set()
        thread.join(WAIT_S)
    assert first["status"] == "SUCCEEDED" and first["vars"]["p"] == {"paid": "invoice-42"}
    # The second run found the key STARTED by a live run: a retryable TransientError.
    assert second["status"] == "WAITING"
    retry_wait = next(w for w in second["waits"] if w["waitType"] == "retry")
    assert retry_wait["payload"]["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
    assert retry_wait["payload"]["error"]["category"] == "TransientError"
    run_due_work(UnitOfWork(engine), registry=registry, now=clock.utcnow() + timedelta(seconds=2))
    second = get_run(UnitOfWork(engine), tenant, second["runId"])
    assert second["status"] == "SUCCEEDED" and second["vars"]["p"] == {"paid": "invoice-42"}
    assert calls == [first["runId"]]  # once, ever
    assert [r["status"] for r in _invocations(engine)] == ["SUCCEEDED"]


class ProcessDied(BaseException):
    """Stands in for a process killed while a handler runs (nothing after it gets to run)."""


def _dies_once(actions, action_id="test.once"):
    calls = []

    def handler(args, ctx):
        calls.append(ctx.run_id)
        if len(calls) == 1:
            raise ProcessDied
        return {"n": len(calls)}

    actions.add(action_id, handler)
    return calls


def test_a_started_invocation_of_a_dead_process_runs_again_when_its_run_resumes(
    engine, tenant, registry, actions
):
    """At-least-once, like Alga: only a SUCCEEDED invocation is never run again."""
    calls = _dies_once(actions)
    wf = _publish(engine, tenant, [call("a", "test.once", saveAs="a")])
    with pytest.raises(ProcessDied):
        start_run(UnitOfWork(engine), tenant, wf, registry=registry)
    [row] = _invocations(engine)
    assert row["status"] == "STARTED"  # committed before the handler ran
    run_due_work(UnitOfWork(engine), registry=registry, now=clock.utcnow() + timedelta(hours=1))
    out = get_run(UnitOfWork(engine), tenant, row["run_id"])
    assert out["status"] == "SUCCEEDED" and out["vars"]["a"] == {"n": 2}
    assert calls == [row["run_id"], row["run_id"]]
    [row] = _invocations(engine)
    assert (row["status"], row["attempt"]) == ("SUCCEEDED", 2)


def test_a_key_left_started_by_an_ended_run_is_taken_over(engine, tenant, registry, actions):
    calls = _dies_once(actions)
    wf = _publish(engine, tenant, [call("a", "test.once", idempotencyKey=expr("'k-1'"))])
    with pytest.raises(ProcessDied):
        start_run(UnitOfWork(engine), tenant, wf, registry=registry)
    dead = calls[0]
    cancel_run(UnitOfWork(engine), tenant, dead)
    out = start_run(UnitOfWork(engine), tenant, wf, registry=registry)
    assert out["status"] == "SUCCEEDED"
    [row] = _invocations(engine)
    assert (row["status"], row["attempt"], row["run_id"]) == ("SUCCEEDED", 2, out["runId"])


# --- finding 5: a node handler that outlives its step ---------------------------------------------


def test_a_timed_out_node_handler_cannot_call_actions_any_more(engine, tenant, registry, actions):
    go, done = threading.Event(), threading.Event()
    seen: dict = {}

    def late_node(envelope, config, ctx):
        go.wait(WAIT_S)
        try:
            ctx.call_action("test.echo", 1, {"late": True})
        except StepFailure as exc:
            seen["error"] = exc
        finally:
            done.set()
        return envelope

    registry.nodes.register(NodeTypeDef("test.late", {"type": "object"}, late_node))
    wf = _publish(engine, tenant, [{"id": "n", "type": "test.late", "config": {}}])
    out = start_run(
        UnitOfWork(engine),
        tenant,
        wf,
        registry=registry,
        options=DriverOptions(action_timeout_s=0.2),
    )
    assert out["status"] == "FAILED" and out["error"]["category"] == "TimeoutError"
    go.set()
    assert done.wait(WAIT_S)
    assert seen["error"].code == "NODE_STEP_ENDED"
    assert actions.called("test.echo") == []
    assert _invocations(engine) == []


# --- finding 7: leases ----------------------------------------------------------------------------


def test_a_driver_that_lost_its_lease_stops_driving(engine, tenant, registry, actions):
    def taken_over(args, ctx):  # meanwhile another worker claims the run
        with engine.begin() as conn:
            conn.execute(
                workflow_runs.update()
                .where(workflow_runs.c.run_id == ctx.run_id)
                .values(lease_owner="another-worker")
            )
        return {}

    actions.add("test.taken", taken_over)
    wf = _publish(engine, tenant, [call("a", "test.taken"), call("b")])
    out = start_run(UnitOfWork(engine), tenant, wf, registry=registry)
    assert out["status"] == "RUNNING"
    assert actions.called("test.echo") == []  # step b is the new owner's to run
    with engine.connect() as conn:
        owner = conn.execute(
            sa.select(workflow_runs.c.lease_owner).where(workflow_runs.c.run_id == out["runId"])
        ).scalar_one()
    assert owner == "another-worker"
    assert [r["status"] for r in _invocations(engine)] == ["SUCCEEDED"]  # what a did is kept


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_parent_keeps_its_lease_while_it_drives_its_child(engine, tenant, registry, actions):
    lease = DriverOptions().lease_s
    clk = Clock()
    parent_lease_left = []

    def tick(args, ctx):
        clk.now += timedelta(seconds=0.6 * lease)
        with engine.connect() as conn:
            expires = conn.execute(
                sa.select(workflow_runs.c.lease_expires_at).where(
                    workflow_runs.c.run_id == args["parent"]
                )
            ).scalar_one()
        parent_lease_left.append((expires - clk.now).total_seconds())
        return {}

    actions.add("test.tick", tick)
    parent_id = expr("system.runId")
    child_steps = [
        call("a", "test.tick", inputMapping={"parent": expr("payload.parent")}),
        call("b", "test.tick", inputMapping={"parent": expr("payload.parent")}),
    ]
    child = _publish(engine, tenant, child_steps, key="child")
    parent = _publish(
        engine,
        tenant,
        [{"id": "c", "type": "control.callWorkflow", "workflowId": child, "workflowVersion": 1,
          "inputMapping": {"parent": parent_id}}],
        key="parent",
    )  # fmt: skip
    with clock.frozen(now=clk):
        out = start_run(UnitOfWork(engine), tenant, parent, registry=registry)
    assert out["status"] == "SUCCEEDED", out["error"]
    assert len(parent_lease_left) == 2 and min(parent_lease_left) > 0
