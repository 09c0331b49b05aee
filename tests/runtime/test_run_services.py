"""The run, event, task and due-work services: a reply is what the database holds once the call
returns, refusals are coded and write nothing, and the worker loop runs the due-work service
(both databases)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from algaflow.kernel import clock
from algaflow.kernel.errors import AlgaflowError
from algaflow.services.due_work import run_due_work
from algaflow.services.events import emit_event
from algaflow.services.runs import cancel_run, get_run, list_runs, start_run
from algaflow.services.tasks import complete_task, list_tasks
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.services.worker import run_worker
from algaflow.store import run_tables as rt

from .conftest import call, expr, publish

RUN_TABLES = (
    rt.workflow_runs, rt.workflow_run_steps, rt.workflow_run_waits, rt.workflow_tasks,
    rt.workflow_runtime_events, rt.workflow_action_invocations, rt.workflow_run_logs,
)  # fmt: skip
ASK = {"id": "ask", "type": "human.task", "config": {"taskType": "t", "title": expr("'T'")}}
WAIT_GO = {"id": "go", "type": "event.wait",
           "config": {"eventName": "GO", "correlationKey": expr("'k'")}}  # fmt: skip


def _rows(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in RUN_TABLES
        }


def _publish(engine, tenant, steps, **kw) -> str:
    with engine.begin() as conn:
        return publish(conn, tenant, steps, **kw)


def test_each_reply_is_what_a_fresh_read_shows(engine, tenant, registry, actions):
    uow = UnitOfWork(engine)
    wf = _publish(engine, tenant, [call("a", saveAs="a"), ASK, WAIT_GO])
    started = start_run(uow, tenant, wf, registry=registry)
    assert started["status"] == "WAITING"
    assert started == get_run(uow, tenant, started["runId"])
    [task] = list_tasks(uow, tenant)
    done = complete_task(uow, tenant, task["taskId"], {"ok": True}, registry=registry)
    assert done == list_tasks(uow, tenant, status="COMPLETED")[0]
    assert get_run(uow, tenant, started["runId"])["status"] == "WAITING"  # now on the event
    delivered = emit_event(uow, tenant, "GO", {}, correlation_key="k", registry=registry, wait=True)
    assert delivered["resumedRuns"] == [started["runId"]]
    finished = get_run(uow, tenant, started["runId"])
    assert finished["status"] == "SUCCEEDED"
    assert [r["runId"] for r in list_runs(uow, tenant, status="SUCCEEDED")] == [finished["runId"]]


def test_a_cancel_reply_is_the_canceled_run_as_stored(engine, tenant, registry, actions):
    uow = UnitOfWork(engine)
    wf = _publish(engine, tenant, [ASK])
    run = start_run(uow, tenant, wf, registry=registry)
    canceled = cancel_run(uow, tenant, run["runId"])
    assert canceled["status"] == "CANCELED"
    assert canceled == get_run(uow, tenant, run["runId"])
    assert list_tasks(uow, tenant) == []  # its task was canceled with it


IDS = st.one_of(
    st.text(max_size=40),
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.integers().map(str),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(unknown=IDS)
def test_unknown_ids_are_coded_refusals_that_write_nothing(engine, tenant, registry, unknown):
    uow = UnitOfWork(engine)
    before = _rows(engine)
    calls = {
        "WORKFLOW_NOT_FOUND": lambda: start_run(uow, tenant, unknown, registry=registry),
        "RUN_NOT_FOUND": lambda: cancel_run(uow, tenant, unknown),
        "TASK_NOT_FOUND": lambda: complete_task(uow, tenant, unknown, {}, registry=registry),
    }
    for code, refused in calls.items():
        with pytest.raises(AlgaflowError) as caught:
            refused()
        assert caught.value.code == code
    with pytest.raises(AlgaflowError) as caught:
        get_run(uow, tenant, unknown)
    assert caught.value.code == "RUN_NOT_FOUND"
    assert list_runs(uow, tenant, workflow_id=unknown) == []
    assert list_tasks(uow, tenant, run_id=unknown, status=None) == []
    assert _rows(engine) == before


def test_another_tenants_run_and_task_are_not_found(
    engine, tenant, other_tenant, registry, actions
):
    uow = UnitOfWork(engine)
    run = start_run(uow, tenant, _publish(engine, tenant, [ASK]), registry=registry)
    [task] = list_tasks(uow, tenant)
    before = _rows(engine)
    for refused, code in (
        (lambda: cancel_run(uow, other_tenant, run["runId"]), "RUN_NOT_FOUND"),
        (lambda: complete_task(uow, other_tenant, task["taskId"], {}, registry=registry),
         "TASK_NOT_FOUND"),
    ):  # fmt: skip
        with pytest.raises(AlgaflowError) as caught:
            refused()
        assert caught.value.code == code
    assert _rows(engine) == before
    assert get_run(uow, tenant, run["runId"])["status"] == "WAITING"


def test_a_due_work_pass_serves_every_tenant(engine, tenant, other_tenant, registry, actions):
    uow = UnitOfWork(engine)
    # A minute: starting both runs on a loaded machine must not make the first one due already.
    sleep = {"id": "s", "type": "time.wait", "config": {"mode": "duration", "durationMs": 60_000}}
    tenants = (tenant, other_tenant)
    runs = [
        start_run(uow, t, _publish(engine, t, [sleep, call("after")]), registry=registry)["runId"]
        for t in tenants
    ]
    assert run_due_work(uow, registry=registry) == 0  # not due yet
    later = clock.utcnow() + timedelta(seconds=61)
    assert run_due_work(uow, registry=registry, now=later) == 2
    statuses = [get_run(uow, t, r)["status"] for t, r in zip(tenants, runs, strict=True)]
    assert statuses == ["SUCCEEDED", "SUCCEEDED"]


def test_the_worker_loop_runs_due_work_until_stopped(engine, tenant, registry, actions):
    uow = UnitOfWork(engine)
    sleep = {"id": "s", "type": "time.wait", "config": {"mode": "duration", "durationMs": 200}}
    run = start_run(uow, tenant, _publish(engine, tenant, [sleep, call("after")]),
                    registry=registry)  # fmt: skip
    assert run["status"] == "WAITING"
    stop = threading.Event()
    worker = threading.Thread(
        target=run_worker, args=(engine, registry), kwargs={"stop": stop, "interval_s": 0.05}
    )
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while get_run(uow, tenant, run["runId"])["status"] != "SUCCEEDED":
            assert time.monotonic() < deadline, "the worker never resumed the run"
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive()
    assert len(actions.called("test.echo")) == 1
