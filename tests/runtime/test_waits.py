"""Event waits, time waits, human tasks, event triggers, child runs and cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from algaflow.api.statuses import status_for
from algaflow.kernel import clock
from algaflow.kernel.errors import AlgaflowError
from algaflow.services.due_work import run_due_work
from algaflow.services.events import emit_event
from algaflow.services.runs import cancel_run, get_run, list_runs, start_run
from algaflow.services.tasks import complete_task, list_tasks
from algaflow.services.unit_of_work import UnitOfWork

from .conftest import TEST_SCHEMA, call, expr, publish

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def start(engine, tenant, registry, steps, payload=None, **kw):
    with engine.begin() as conn:
        wf = publish(conn, tenant, steps, **kw)
    return start_run(UnitOfWork(engine), tenant, wf, registry=registry, payload=payload or {})


def emit(engine, tenant, registry, name, payload, **kw):
    return emit_event(UnitOfWork(engine), tenant, name, payload, registry=registry, **kw, wait=True)


def fetch(engine, tenant, run_id):
    return get_run(UnitOfWork(engine), tenant, run_id)


def event_wait(**config):
    return {"id": "wait", "type": "event.wait", "config": {"eventName": "PING", **config}}


def test_event_wait_resumes_by_correlation_key_and_filters(engine, tenant, registry, actions):
    steps = [
        event_wait(
            correlationKey=expr("payload.ticketId"),
            filters=[{"path": "$.level", "op": ">=", "value": 2}],
            assign={"got": expr("event.level"), "payload.name": expr("eventName")},
        ),
        call("after", inputMapping={"got": expr("vars.got"), "name": expr("payload.name")}),
    ]
    out = start(engine, tenant, registry, steps, {"ticketId": "T-1"})
    assert out["status"] == "WAITING"
    assert out["waits"][0]["key"] == "T-1" and out["waits"][0]["waitType"] == "event"
    assert (
        emit(engine, tenant, registry, "PING", {"level": 5}, correlation_key="T-2")["status"]
        == "no_wait"
    )
    assert (
        emit(engine, tenant, registry, "PING", {"ticketId": "T-1", "level": 1})["status"]
        == "no_wait"
    )  # the filter fails
    result = emit(engine, tenant, registry, "PING", {"ticketId": "T-1", "level": 3})
    assert result["status"] == "resumed" and result["runId"] == out["runId"]
    out = fetch(engine, tenant, out["runId"])
    assert out["status"] == "SUCCEEDED"
    assert actions.called("test.echo") == [{"got": 3, "name": "PING"}]
    assert out["waits"][0]["status"] == "RESOLVED"
    assert (
        emit(engine, tenant, registry, "PING", {"ticketId": "T-1", "level": 3})["status"]
        == "no_wait"
    )


def test_event_wait_times_out_into_a_catch(engine, tenant, registry, actions):
    steps = [
        {
            "id": "guard",
            "type": "control.tryCatch",
            "captureErrorAs": "timeout",
            "try": [event_wait(correlationKey=expr("'k'"), timeoutMs=60_000)],
            "catch": [call("late", inputMapping={"cat": expr("timeout.category")})],
        }
    ]
    clk = Clock()
    with clock.frozen(now=clk):
        out = start(engine, tenant, registry, steps)
        assert out["status"] == "WAITING"
        clk.now = T0 + timedelta(seconds=59)
        assert run_due_work(UnitOfWork(engine), registry=registry) == 0
        clk.now = T0 + timedelta(seconds=60)
        run_due_work(UnitOfWork(engine), registry=registry)
    out = fetch(engine, tenant, out["runId"])
    assert out["status"] == "SUCCEEDED"
    assert actions.called("test.echo") == [{"cat": "TimeoutError"}]
    assert out["vars"]["timeout"]["details"]["eventName"] == "PING"


def test_time_wait_duration_and_until(engine, tenant, registry, actions):
    steps = [
        {"id": "sleep", "type": "time.wait", "config": {"mode": "duration", "durationMs": 5000}},
        {"id": "past", "type": "time.wait",
         "config": {"mode": "until", "until": expr("'2020-01-01T00:00:00Z'")}},
        call("after", inputMapping={"due": expr("vars.timeWait.dueAt")}),
    ]  # fmt: skip
    clk = Clock()
    with clock.frozen(now=clk):
        out = start(engine, tenant, registry, steps)
        assert out["status"] == "WAITING"
        assert out["waits"][0]["timeoutAt"].startswith("2026-03-01T12:00:05")
        clk.now = T0 + timedelta(seconds=5)
        assert run_due_work(UnitOfWork(engine), registry=registry) == 1
    out = fetch(engine, tenant, out["runId"])
    assert out["status"] == "SUCCEEDED"
    assert actions.called("test.echo") == [{"due": "2020-01-01T00:00:00.000Z"}]
    assert [w["status"] for w in out["waits"]] == ["RESOLVED", "RESOLVED"]


def test_time_wait_with_an_invalid_until_fails_the_run(engine, tenant, registry, actions):
    steps = [{"id": "t", "type": "time.wait", "config": {"mode": "until", "until": expr("'soon'")}}]
    out = start(engine, tenant, registry, steps)
    assert out["status"] == "FAILED"
    assert out["error"]["category"] == "ValidationError"


def test_human_task_completed_through_the_api(engine, tenant, other_tenant, registry, actions):
    steps = [
        {"id": "approve", "type": "human.task",
         "config": {"taskType": "approval", "title": expr("'Approve ' & payload.ticketId"),
                    "contextData": {"who": expr("'ops'")},
                    "assign": {"ok": expr("event.approved")}}},
        call("after", inputMapping={"ok": expr("vars.ok")}),
    ]  # fmt: skip
    out = start(engine, tenant, registry, steps, {"ticketId": "T-9"})
    assert out["status"] == "WAITING"
    tasks = list_tasks(UnitOfWork(engine), tenant)
    assert list_tasks(UnitOfWork(engine), other_tenant) == []
    assert [(t["title"], t["contextData"]) for t in tasks] == [("Approve T-9", {"who": "ops"})]
    task_id = tasks[0]["taskId"]
    with pytest.raises(AlgaflowError) as err:
        complete_task(UnitOfWork(engine), other_tenant, task_id, {}, registry=registry)
    assert err.value.code == "TASK_NOT_FOUND"
    done = complete_task(UnitOfWork(engine), tenant, task_id, {"approved": True}, registry=registry)
    assert done["status"] == "COMPLETED"
    assert fetch(engine, tenant, out["runId"])["status"] == "SUCCEEDED"
    assert actions.called("test.echo") == [{"ok": True}]
    with pytest.raises(AlgaflowError) as err:
        complete_task(UnitOfWork(engine), tenant, task_id, {"approved": False}, registry=registry)
    assert err.value.code == "TASK_ALREADY_COMPLETED" and status_for(err.value.code) == 409
    with pytest.raises(AlgaflowError) as err:
        complete_task(UnitOfWork(engine), tenant, "not-a-task", {}, registry=registry)
    assert err.value.code == "TASK_NOT_FOUND"


def test_event_triggers_start_runs_with_mapping_and_dedupe(engine, tenant, registry, actions):
    trigger = {"type": "event", "eventName": "TICKET_CREATED",
               "payloadMapping": {"ticket.id": expr("event.payload.ticketId"),
                                  "n": expr("event.payload.count")}}  # fmt: skip
    steps = [call("go", inputMapping={"id": expr("payload.ticket.id")})]
    with engine.begin() as conn:
        publish(conn, tenant, steps, key="mapped", trigger=trigger)
        publish(conn, tenant, steps, key="paused", trigger=trigger, paused=True)
        publish(
            conn,
            tenant,
            [call("plain", inputMapping={"t": expr("payload.ticketId")})],
            key="plain",
            trigger={"type": "event", "eventName": "TICKET_CREATED"},
        )
    result = emit(engine, tenant, registry, "TICKET_CREATED", {"ticketId": "T-5", "count": 2},
                  event_id="00000000-0000-4000-8000-000000000001")  # fmt: skip
    assert result["status"] == "no_wait" and len(result["startedRuns"]) == 2
    assert sorted(map(str, actions.called("test.echo")), key=len) == sorted(
        map(str, [{"id": "T-5"}, {"t": "T-5"}]), key=len
    )
    runs = list_runs(UnitOfWork(engine), tenant)
    assert {r["triggerType"] for r in runs} == {"event"}
    assert any(r["triggerMappingApplied"] for r in runs)
    again = emit(engine, tenant, registry, "TICKET_CREATED", {"ticketId": "T-5", "count": 2},
                 event_id="00000000-0000-4000-8000-000000000001")  # fmt: skip
    assert again["startedRuns"] == [] and again["duplicate"]
    bad = emit(engine, tenant, registry, "TICKET_CREATED", {"ticketId": "T-6", "count": "two"})
    assert len(bad["startedRuns"]) == 1  # only "plain": "mapped" fails its payload schema
    assert any("mapped" in e for e in bad["errors"])


def child_steps():
    return [
        {"id": "s", "type": "state.set", "config": {"state": "CHILD"}},
        call("child-work", inputMapping={"x": expr("payload.x")}, saveAs="made"),
    ]


def parent_steps(child_id, version=1):
    return [
        {"id": "sub", "type": "control.callWorkflow", "workflowId": child_id,
         "workflowVersion": version, "inputMapping": {"x": expr("payload.n * 2")},
         "outputMapping": {"fromChild": expr("childRun.vars.made.echo.x"),
                           "childState": expr("childRun.meta.state")}},
        call("after", inputMapping={"v": expr("vars.fromChild"), "s": expr("vars.childState")}),
    ]  # fmt: skip


def test_child_workflow_output_mapping(engine, tenant, registry, actions):
    with engine.begin() as conn:
        child = publish(conn, tenant, child_steps(), key="child")
    out = start(engine, tenant, registry, parent_steps(child), {"n": 21}, key="parent")
    assert out["status"] == "SUCCEEDED"
    assert actions.called("test.echo") == [{"x": 42}, {"v": 42, "s": "CHILD"}]
    runs = list_runs(UnitOfWork(engine), tenant, workflow_id=child)
    assert runs[0]["parentRunId"] == out["runId"] and runs[0]["rootRunId"] == out["runId"]
    assert runs[0]["status"] == "SUCCEEDED"


def test_child_failure_is_a_child_workflow_error(engine, tenant, registry, actions):
    with engine.begin() as conn:
        bad_if = {"id": "t", "type": "control.if", "condition": expr("1"), "then": []}
        child = publish(conn, tenant, [bad_if], key="child")
    steps = [{"id": "guard", "type": "control.tryCatch", "captureErrorAs": "e",
              "try": parent_steps(child)[:1], "catch": []}]  # fmt: skip
    out = start(engine, tenant, registry, steps, {"n": 1}, key="parent")
    assert out["status"] == "SUCCEEDED"
    assert out["vars"]["e"]["category"] == "ChildWorkflowError"
    assert out["vars"]["e"]["details"]["cause"]["message"].startswith("control.if")


@pytest.mark.parametrize("version", [1, 7])
def test_call_to_a_missing_workflow_or_version_fails_clearly(
    engine, tenant, registry, actions, version
):
    with engine.begin() as conn:
        child = publish(conn, tenant, child_steps(), key="child")
    target = child if version == 7 else "00000000-0000-4000-8000-00000000dead"
    out = start(engine, tenant, registry, parent_steps(target, version), {"n": 1}, key="parent")
    assert out["status"] == "FAILED"
    assert out["error"]["code"] == "CHILD_WORKFLOW_NOT_FOUND"


def test_parent_waits_for_a_waiting_child(engine, tenant, registry, actions):
    with engine.begin() as conn:
        child = publish(
            conn, tenant, [event_wait(correlationKey=expr("payload.x")), *child_steps()], key="c"
        )
    out = start(engine, tenant, registry, parent_steps(child), {"n": 4}, key="parent")
    assert out["status"] == "WAITING"
    emit(engine, tenant, registry, "PING", {}, correlation_key="8")
    out = fetch(engine, tenant, out["runId"])
    assert out["status"] == "SUCCEEDED"
    assert actions.called("test.echo")[-1] == {"v": 8, "s": "CHILD"}


def test_cancel_a_waiting_run(engine, tenant, other_tenant, registry, actions):
    with engine.begin() as conn:
        child = publish(conn, tenant, [event_wait(correlationKey=expr("'k'"))], key="c")
    out = start(engine, tenant, registry, parent_steps(child), {"n": 4}, key="parent")
    with pytest.raises(AlgaflowError) as err:
        cancel_run(UnitOfWork(engine), other_tenant, out["runId"])
    assert err.value.code == "RUN_NOT_FOUND" and status_for(err.value.code) == 404
    canceled = cancel_run(UnitOfWork(engine), tenant, out["runId"])
    assert canceled["status"] == "CANCELED"
    statuses = {r["status"] for r in list_runs(UnitOfWork(engine), tenant)}
    assert statuses == {"CANCELED"}
    assert emit(engine, tenant, registry, "PING", {}, correlation_key="k")["status"] == "no_wait"
    with pytest.raises(AlgaflowError) as err:
        cancel_run(UnitOfWork(engine), tenant, out["runId"])
    assert err.value.code == "RUN_NOT_CANCELABLE"


def test_start_refusals(engine, tenant, registry, actions):
    with engine.begin() as conn:
        paused = publish(conn, tenant, [], key="paused", paused=True)
        limited = publish(conn, tenant, [event_wait(correlationKey=expr("'k'"))], key="limited",
                          concurrency_limit=1)  # fmt: skip
    with pytest.raises(AlgaflowError) as err:
        start_run(UnitOfWork(engine), tenant, paused, registry=registry)
    assert (err.value.code, status_for(err.value.code)) == ("WORKFLOW_PAUSED", 409)
    assert start_run(UnitOfWork(engine), tenant, limited, registry=registry)["status"] == "WAITING"
    with pytest.raises(AlgaflowError) as err:
        start_run(UnitOfWork(engine), tenant, limited, registry=registry)
    assert (err.value.code, status_for(err.value.code)) == ("CONCURRENCY_LIMIT_REACHED", 429)
    with pytest.raises(AlgaflowError) as err:
        start_run(UnitOfWork(engine), tenant, limited, registry=registry, version=9)
    assert err.value.code == "CONCURRENCY_LIMIT_REACHED"


def test_invalid_payload_records_a_failed_run(engine, tenant, registry, actions):
    with engine.begin() as conn:
        wf = publish(conn, tenant, [call("never")], schema_ref=TEST_SCHEMA)
    with pytest.raises(AlgaflowError) as err:
        start_run(UnitOfWork(engine), tenant, wf, registry=registry, payload={"n": "not a number"})
    assert (err.value.code, status_for(err.value.code)) == ("PAYLOAD_VALIDATION_FAILED", 400)
    out = fetch(engine, tenant, err.value.details["runId"])
    assert out["status"] == "FAILED"
    assert out["error"]["stage"] == "launch" and out["error"]["details"]["issues"]
    assert actions.calls == []


def test_unpublished_and_unknown_workflows(engine, tenant, registry):
    from algaflow.store.workflows import create_workflow

    with engine.begin() as conn:
        wf = create_workflow(conn, tenant, key="draft", name="d", payload_schema_ref=TEST_SCHEMA)
    with pytest.raises(AlgaflowError) as err:
        start_run(UnitOfWork(engine), tenant, wf["workflow_id"], registry=registry)
    assert err.value.code == "WORKFLOW_NOT_PUBLISHED"
    with pytest.raises(AlgaflowError) as err:
        get_run(UnitOfWork(engine), tenant, "nope")
    assert err.value.code == "RUN_NOT_FOUND"
