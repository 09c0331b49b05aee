"""The run-backend seam: events answer once their runs are recorded, each run stays with its
backend, misconfiguration is a coded error; and, on Temporal, retries, cancellation, the
reconciler and a worker killed in the middle of a run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from algaflow.config import load_settings
from algaflow.kernel.clock import utcnow
from algaflow.kernel.errors import AlgaflowError
from algaflow.runtime.embedded.driver import Driver, Launch
from algaflow.services.backends import DISPATCH_GRACE, configured_backend
from algaflow.services.due_work import run_due_work
from algaflow.services.events import emit_event
from algaflow.services.runs import cancel_run, get_run, start_run
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store import runs as run_store
from algaflow.store.run_tables import workflow_action_invocations
from algaflow.store.workflows import get_workflow, latest_version

from . import worker_kill_plugin
from .conftest import call, expr, publish

ROOT = Path(__file__).resolve().parents[2]
GO = {"type": "event", "eventName": "GO"}
WAIT = {
    "id": "w",
    "type": "event.wait",
    "config": {"eventName": "NEXT", "correlationKey": expr("'k'")},
}


def _started(result):
    [run_id] = result["startedRuns"]
    return run_id


def test_an_event_answers_once_its_runs_are_recorded(engine, tenant, registry, actions):
    with engine.begin() as conn:
        publish(conn, tenant, [call("a")], trigger=GO)
    uow = UnitOfWork(engine)
    run_id = _started(emit_event(uow, tenant, "GO", {}, registry=registry))
    recorded = get_run(uow, tenant, run_id)
    assert (recorded["status"], recorded["steps"], actions.called("test.echo")) == (
        "RUNNING",
        [],
        [],
    )
    assert run_due_work(uow, registry=registry) == 1  # what a worker does next
    assert get_run(uow, tenant, run_id)["status"] == "SUCCEEDED"
    assert len(actions.called("test.echo")) == 1


def _record_run(engine, tenant, workflow_id, engine_name):
    """A run recorded for ``engine_name`` and never handed over (its process died)."""
    with engine.begin() as conn:
        workflow = get_workflow(conn, tenant, workflow_id)
        version = latest_version(conn, tenant, workflow_id)
        return Driver(conn, None).create_run(
            tenant, workflow, version, {}, Launch(trigger_type="manual", engine=engine_name)
        )


def test_the_embedded_worker_never_touches_a_temporal_run(engine, tenant, registry, actions):
    with engine.begin() as conn:
        wf = publish(conn, tenant, [call("a")])
    run_id = _record_run(engine, tenant, wf, "temporal")
    assert run_due_work(UnitOfWork(engine), registry=registry) == 0
    with engine.begin() as conn:
        claimed = run_store.claim_run(conn, run_id, owner="me", now=utcnow(), lease_owner="me",
                                      lease_expires_at=utcnow())  # fmt: skip
    assert not claimed
    run = get_run(UnitOfWork(engine), tenant, run_id)
    assert (run["status"], run["steps"], actions.calls) == ("RUNNING", [], [])


@pytest.mark.parametrize(
    ("environ", "code"),
    [
        ({"ALGAFLOW_RUNTIME": "cluster"}, "RUNTIME_UNKNOWN"),
        ({"ALGAFLOW_RUNTIME": "temporal"}, "TEMPORAL_NEEDS_POSTGRESQL"),
    ],
)
def test_a_misconfigured_runtime_is_a_coded_error(environ, code):
    with pytest.raises(AlgaflowError) as caught:
        configured_backend(load_settings(environ))
    assert caught.value.code == code


def test_the_default_runtime_is_embedded():
    assert configured_backend(load_settings({})).name == "embedded"


# --- on Temporal ---------------------------------------------------------------------------------


def test_retries_back_off_on_durable_timers(engine, tenant, registry, actions, temporal_workers):
    backend = temporal_workers(engine, registry)
    attempts = []

    def flaky(args, ctx):
        attempts.append(ctx.attempt)
        if len(attempts) < 3:
            from algaflow.registry import ActionRuntimeError

            raise ActionRuntimeError("TransientError", "RATE_LIMITED", "try again")
        return {"ok": True}

    actions.add("test.flaky", flaky)
    policy = {"maxAttempts": 3, "backoffMs": 50, "retryOn": ["TransientError"]}
    with engine.begin() as conn:
        wf = publish(conn, tenant, [call("s", "test.flaky", retry=policy, saveAs="r")])
    started = start_run(UnitOfWork(engine), tenant, wf, registry=registry, backend=backend)
    assert started["status"] == "WAITING"  # on its first backoff, as on the embedded backend
    run = _finished(engine, tenant, started["runId"])
    assert run["status"] == "SUCCEEDED", run["error"]
    assert attempts == [1, 2, 3]
    assert [(s["status"], s["attempt"]) for s in run["steps"]] == [("SUCCEEDED", 1)]
    assert [(w["waitType"], w["status"]) for w in run["waits"]] == [("retry", "RESOLVED")] * 2
    assert run["vars"]["r"] == {"ok": True}


def test_a_canceled_run_stops_its_workflow(engine, tenant, registry, actions, temporal_workers):
    backend = temporal_workers(engine, registry)
    with engine.begin() as conn:
        wf = publish(conn, tenant, [WAIT, call("after")])
    run = start_run(UnitOfWork(engine), tenant, wf, registry=registry, backend=backend)
    assert run["status"] == "WAITING"
    canceled = cancel_run(UnitOfWork(engine), tenant, run["runId"], backend=backend)
    assert canceled["status"] == "CANCELED"
    delivered = emit_event(UnitOfWork(engine), tenant, "NEXT", {}, correlation_key="k",
                           registry=registry, wait=True, backend=backend)  # fmt: skip
    assert delivered["resumedRuns"] == []
    assert actions.called("test.echo") == []
    assert get_run(UnitOfWork(engine), tenant, run["runId"])["status"] == "CANCELED"


def test_an_event_resumes_a_temporal_run(engine, tenant, registry, actions, temporal_workers):
    backend = temporal_workers(engine, registry)
    with engine.begin() as conn:
        wf = publish(conn, tenant, [WAIT, call("after", saveAs="out")])
    run = start_run(UnitOfWork(engine), tenant, wf, registry=registry, backend=backend)
    delivered = emit_event(UnitOfWork(engine), tenant, "NEXT", {"x": 1}, correlation_key="k",
                           registry=registry, wait=True, backend=backend)  # fmt: skip
    assert delivered["resumedRuns"] == [run["runId"]]
    done = get_run(UnitOfWork(engine), tenant, run["runId"])
    assert done["status"] == "SUCCEEDED", done["error"]
    assert [w["status"] for w in done["waits"]] == ["RESOLVED"]


def test_the_reconciler_starts_a_run_whose_start_was_lost(
    engine, tenant, registry, actions, temporal_workers
):
    backend = temporal_workers(engine, registry)
    with engine.begin() as conn:
        wf = publish(conn, tenant, [call("a")])
    run_id = _record_run(engine, tenant, wf, "temporal")
    uow = UnitOfWork(engine)
    assert (
        backend.due_work(uow, registry=registry) == 0
    )  # within the grace: a start may be on its way
    later = utcnow() + DISPATCH_GRACE + timedelta(seconds=1)
    assert backend.due_work(uow, registry=registry, now=later) == 1
    backend.gateway.settle(engine, tenant, [run_id])
    assert get_run(uow, tenant, run_id)["status"] == "SUCCEEDED"
    assert backend.due_work(uow, registry=registry, now=later) == 0
    backend.start(uow, tenant, [run_id])  # starting again is harmless: the id is taken
    assert len(actions.called("test.echo")) == 1


def _finished(engine, tenant, run_id):
    def ended():
        return get_run(UnitOfWork(engine), tenant, run_id)["status"] not in ("RUNNING", "WAITING")

    _wait_for(ended)
    return get_run(UnitOfWork(engine), tenant, run_id)


def _calls(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def _wait_for(condition, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_killed_worker_leaves_the_run_to_another(
    engine, db_url, tenant, registry, temporal_server, temporal_workers, tmp_path, monkeypatch
):
    """A worker process is killed while an action runs; a second worker finishes the run, and
    the action whose invocation had succeeded is not called again."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the temporal runtime runs on PostgreSQL")
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("ALGAFLOW_TEST_CALLS", str(calls))
    worker_kill_plugin.register(registry)
    queue = f"kill-{os.getpid()}-{tenant[:8]}"
    env = {
        **os.environ, "ALGAFLOW_RUNTIME": "temporal", "ALGAFLOW_DATABASE_URL": db_url,
        "ALGAFLOW_TEMPORAL_ADDRESS": temporal_server.address,
        "ALGAFLOW_TEMPORAL_TASK_QUEUE": queue,
        "ALGAFLOW_PLUGINS": "tests.runtime.worker_kill_plugin:register",
        "ALGAFLOW_TEST_CALLS": str(calls), "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    first = subprocess.Popen(
        [sys.executable, "-m", "algaflow.cli.main", "worker"], env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with engine.begin() as conn:
            wf = publish(conn, tenant, [call("once", "test.once"), call("slow", "test.slow")])
        calls.with_suffix(".slow").touch()
        starter = temporal_workers.backend(task_queue=queue)  # starts runs, hosts nothing
        run = start_run(UnitOfWork(engine), tenant, wf, registry=registry, backend=starter,
                        wait=False)  # fmt: skip
        _wait_for(lambda: _calls(calls) == ["test.once", "test.slow"])
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    calls.with_suffix(".slow").unlink()
    temporal_workers(engine, registry, task_queue=queue)  # a second worker takes the run over
    assert _finished(engine, tenant, run["runId"])["status"] == "SUCCEEDED"
    assert _calls(calls) == ["test.once", "test.slow", "test.slow"]
    invocations = workflow_action_invocations.c
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(invocations.action_id, invocations.status).where(
                invocations.run_id == run["runId"]
            )
        ).all()
    assert sorted(rows) == [("test.once", "SUCCEEDED"), ("test.slow", "SUCCEEDED")]


@pytest.mark.parametrize("local", [False, True], ids=["activities", "local-activities"])
def test_a_long_run_continues_as_new(engine, tenant, registry, actions, temporal_server,
                                     temporal_workers, local):  # fmt: skip
    """With three steps per execution, a ten-step run spans several executions of its workflow
    and ends as it does on the embedded backend."""
    backend = temporal_workers(engine, registry)
    from algaflow.runtime.temporal.workflow import WORKFLOW_NAME, RunInput, workflow_id

    steps = [call(f"s{i}", saveAs=f"r{i}", n=i) for i in range(10)]
    with engine.begin() as conn:
        wf = publish(conn, tenant, steps)
    embedded = start_run(UnitOfWork(engine), tenant, wf, registry=registry)
    run_id = _record_run(engine, tenant, wf, "temporal")
    start = RunInput(tenant, run_id, local_activities=local, steps_per_execution=3)
    queue = backend.gateway.settings.task_queue
    client = temporal_server.env.client
    handle = temporal_server.call(
        client.start_workflow(WORKFLOW_NAME, start, id=workflow_id(run_id), task_queue=queue)
    )
    assert temporal_server.call(handle.result()) == "SUCCEEDED"
    run = get_run(UnitOfWork(engine), tenant, run_id)
    assert run["vars"] == embedded["vars"]
    assert [s["stepPath"] for s in run["steps"]] == [s["stepPath"] for s in embedded["steps"]]
    execution = client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)
    first = temporal_server.call(execution.fetch_history())  # the first execution's, only
    kinds = [event.WhichOneof("attributes") for event in first.events]
    assert "workflow_execution_continued_as_new_event_attributes" in kinds


def test_long_timers_and_a_wait_timeout_on_durable_timers(
    engine, tenant, registry, actions, skipping_workers
):
    """A 30-day time.wait and a 7-day event-wait timeout, on the time-skipping server: both
    are durable timers, and the timeout is caught like on the embedded backend."""
    backend = skipping_workers(engine, registry)
    steps = [
        {"id": "sleep", "type": "time.wait",
         "config": {"mode": "duration", "durationMs": 30 * 86_400_000}},
        {"id": "guard", "type": "control.tryCatch", "captureErrorAs": "timeout",
         "try": [{"id": "w", "type": "event.wait", "config": {
             "eventName": "NEVER", "correlationKey": expr("'k'"), "timeoutMs": 7 * 86_400_000}}],
         "catch": [call("late", inputMapping={"cat": expr("timeout.category")})]},
    ]  # fmt: skip
    with engine.begin() as conn:
        wf = publish(conn, tenant, steps)
    started = start_run(UnitOfWork(engine), tenant, wf, registry=registry, backend=backend)
    run = _finished(engine, tenant, started["runId"])
    assert run["status"] == "SUCCEEDED", run["error"]
    assert run["vars"]["timeout"]["category"] == "TimeoutError"
    assert actions.called("test.echo") == [{"cat": "TimeoutError"}]
    sleep, wait = run["waits"]
    assert (sleep["waitType"], wait["waitType"]) == ("time", "event")
    assert {sleep["status"], wait["status"]} == {"RESOLVED"}


def test_a_human_task_resumes_a_temporal_run(engine, tenant, registry, actions, temporal_workers):
    from algaflow.services.tasks import complete_task, list_tasks

    backend = temporal_workers(engine, registry)
    steps = [
        {"id": "approve", "type": "human.task",
         "config": {"taskType": "approval", "title": expr("'Approve'"),
                    "assign": {"ok": expr("event.approved")}}},
        call("after", inputMapping={"ok": expr("vars.ok")}),
    ]  # fmt: skip
    with engine.begin() as conn:
        wf = publish(conn, tenant, steps)
    run = start_run(UnitOfWork(engine), tenant, wf, registry=registry, backend=backend)
    assert run["status"] == "WAITING"
    [task] = list_tasks(UnitOfWork(engine), tenant)
    done = complete_task(UnitOfWork(engine), tenant, task["taskId"], {"approved": True},
                         registry=registry, backend=backend)  # fmt: skip
    assert done["status"] == "COMPLETED"
    assert _finished(engine, tenant, run["runId"])["status"] == "SUCCEEDED"
    assert actions.called("test.echo") == [{"ok": True}]


def test_an_outcome_whose_signal_was_lost_is_sent_again(
    engine, tenant, registry, actions, temporal_workers, monkeypatch
):
    """The process dies after committing the resolved wait, before signalling: the worker loop
    sends the kept outcome again, and the run goes on with it."""
    backend = temporal_workers(engine, registry)
    with engine.begin() as conn:
        wf = publish(conn, tenant, [WAIT, call("after", inputMapping={"x": expr("event.x")})])
    run = start_run(UnitOfWork(engine), tenant, wf, registry=registry, backend=backend)
    with monkeypatch.context() as patch:
        patch.setattr(backend.gateway, "resolve", lambda *_: None)  # the signal never leaves
        emit_event(UnitOfWork(engine), tenant, "NEXT", {"x": 7}, correlation_key="k",
                   registry=registry, backend=backend)  # fmt: skip
    uow = UnitOfWork(engine)
    assert get_run(uow, tenant, run["runId"])["status"] == "WAITING"
    assert backend.due_work(uow, registry=registry) == 0  # within the grace: it may be on its way
    later = utcnow() + DISPATCH_GRACE + timedelta(seconds=1)
    assert backend.due_work(uow, registry=registry, now=later) == 1
    assert _finished(engine, tenant, run["runId"])["status"] == "SUCCEEDED"
    assert actions.called("test.echo") == [{"x": 7}]
    assert backend.due_work(uow, registry=registry, now=later) == 0
