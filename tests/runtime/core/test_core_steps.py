"""Every step type through plan/complete, with no database: what the core asks for and writes."""

from __future__ import annotations

from typing import Any

import pytest

from algaflow.runtime.core import (
    ActionRequest,
    CallAction,
    ChildRequest,
    Failed,
    Finished,
    HumanTask,
    OpenWait,
    Performed,
    Plan,
    RunNode,
    RunStatus,
    StartChild,
    StepStatus,
    Succeeded,
    WaitType,
    complete,
    plan,
)

from .pure import NOW, NOW_ISO, action, drive, expr, program, start


def echo(planned: Plan) -> Succeeded:
    """The stand-in action: answers with its input."""
    assert isinstance(planned, CallAction), planned
    return Succeeded({"echo": planned.request.input})


def called(trace: Any) -> list[tuple[str | None, dict[str, Any]]]:
    return [(p.path, p.request.input) for p in trace.plans if isinstance(p, CallAction)]


# --- action.call ---------------------------------------------------------------------------------


def test_an_action_call_asks_for_the_resolved_input_and_saves_the_result() -> None:
    prog = program(
        action(
            "a",
            inputMapping={"n": expr("payload.n + 1"), "lit": "x", "key": {"$secret": "api"}},
            idempotencyKey=expr("'k-' & $toString(payload.n)"),
            saveAs="out",
        )
    )
    state = start({"n": 41})
    planned = plan(prog, state, NOW)
    assert isinstance(planned, CallAction)
    assert planned.path == "root.steps[0]"
    request = planned.request
    assert request == ActionRequest(
        action_id="test.echo",
        version=1,
        input={"n": 42, "lit": "x", "key": {"$secret": "api"}},  # secrets stay references
        secrets=(("/key", "api"),),
        idempotency_key="k-41",
        attempt=1,
        step_config=prog.step("root.steps[0]")["config"],  # type: ignore[index]
        expression_context=request.expression_context,
    )
    assert request.expression_context["payload"] == {"n": 41}

    transition = complete(prog, state, "root.steps[0]", Succeeded({"ok": True}), NOW)
    assert transition.step_status is StepStatus.SUCCEEDED
    assert transition.run_status is None
    assert state["scopes"]["workflow"] == {"out": {"ok": True}}
    done = plan(prog, state, NOW)
    assert isinstance(done, Finished)
    assert done.transition.run_status is RunStatus.SUCCEEDED


def test_an_action_call_without_action_id_fails_the_run() -> None:
    prog = program({"id": "a", "type": "action.call", "config": {"version": 1}})
    trace = drive(prog, start(), echo)
    assert trace.last.run_status is RunStatus.FAILED
    assert trace.last.run_error is not None
    assert trace.last.run_error["message"] == "action.call config requires actionId and version"


def test_an_unstorable_input_fails_before_anything_keeps_it() -> None:
    prog = program(action("a", inputMapping={"v": expr('"a\\u0000b"')}))
    trace = drive(prog, start(), echo)
    assert not called(trace)
    assert trace.last.run_error is not None
    assert trace.last.run_error["code"] == "UNSTORABLE_VALUE"


# --- node steps (state.set, transform.*) ---------------------------------------------------------


def test_node_steps_ask_for_their_handler_with_the_envelope() -> None:
    prog = program(
        {"id": "s", "type": "state.set", "config": {"state": "OPEN"}},
        {"id": "t", "type": "transform.assign", "config": {"assign": {"vars.x": expr("1")}}},
    )
    state = start({"n": 1}, meta={"m": 1})
    first = plan(prog, state, NOW)
    assert isinstance(first, RunNode)
    assert first.request.type == "state.set"
    assert first.request.config == {"state": "OPEN"}
    assert first.request.envelope == {
        "v": 1,
        "run": {
            "id": "run-1",
            "workflowId": "wf-1",
            "workflowVersion": 1,
            "startedAt": "2026-03-01T09:00:00.000Z",
        },
        "payload": {"n": 1},
        "meta": {"m": 1},
        "vars": {},
    }
    first.request.envelope["vars"]["leak"] = True  # the envelope is a copy
    assert state["scopes"]["workflow"] == {}

    envelope = {"payload": {"n": 1}, "meta": {"state": "OPEN"}, "vars": {}}
    complete(prog, state, "root.steps[0]", Succeeded(envelope), NOW)
    assert state["scopes"]["meta"] == {"state": "OPEN"}

    second = plan(prog, state, NOW)
    assert isinstance(second, RunNode)
    assert second.request.type == "transform.assign"
    assert second.request.envelope["meta"] == {"state": "OPEN"}
    result = {**second.request.envelope, "vars": {"x": 1}, "error": {"message": "kept"}}
    complete(prog, state, "root.steps[1]", Succeeded(result), NOW)
    assert state["scopes"]["workflow"] == {"x": 1}
    assert state["scopes"]["error"] == {"message": "kept"}
    assert isinstance(plan(prog, state, NOW), Finished)


# --- control.if ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "branch"), [(2, "then"), (0, "else")])
def test_control_if_enters_the_branch_its_condition_names(n: int, branch: str) -> None:
    prog = program(
        {
            "id": "if",
            "type": "control.if",
            "condition": expr("payload.n > 1"),
            "then": [action("a")],
            "else": [action("b")],
        },
        action("after"),
    )
    trace = drive(prog, start({"n": n}), echo)
    assert isinstance(trace.plans[0], Performed)
    assert trace.plans[0].transition.step_status is StepStatus.SUCCEEDED
    assert [path for path, _ in called(trace)] == [
        f"root.steps[0].{branch}.steps[0]",
        "root.steps[1]",
    ]
    assert trace.last.run_status is RunStatus.SUCCEEDED


def test_control_if_without_else_goes_on_and_a_non_boolean_fails() -> None:
    prog = program(
        {"id": "if", "type": "control.if", "condition": expr("false"), "then": [action("a")]},
        action("after"),
    )
    assert [p for p, _ in called(drive(prog, start(), echo))] == ["root.steps[1]"]

    prog = program({"id": "if", "type": "control.if", "condition": expr("1"), "then": []})
    trace = drive(prog, start(), echo)
    assert trace.last.run_status is RunStatus.FAILED
    assert trace.last.run_error is not None
    assert trace.last.run_error["category"] == "ActionError"
    assert trace.last.run_error["message"] == "control.if condition must evaluate to a boolean"
    assert trace.last.run_error["at"] == NOW_ISO


# --- control.forEach -----------------------------------------------------------------------------


def _loop(**extra: Any) -> dict[str, Any]:
    return {
        "id": "loop",
        "type": "control.forEach",
        "items": expr("payload.items"),
        "itemVar": "it",
        "body": [
            action(
                "a",
                inputMapping={"v": expr("it"), "i": expr("local.index"), "last": expr("isLast")},
            )
        ],
        **extra,
    }


def test_for_each_runs_its_body_per_item_and_restores_the_item_variable() -> None:
    prog = program(
        _loop(), action("after", inputMapping={"it": expr("$coalesce(vars.it, 'gone')")})
    )
    state = start({"items": [10, 20, 30]})
    trace = drive(prog, state, echo)
    assert [value for _, value in called(trace)] == [
        {"v": 10, "i": 0, "last": False},
        {"v": 20, "i": 1, "last": False},
        {"v": 30, "i": 2, "last": True},
        {"it": "gone"},
    ]
    assert trace.last.run_status is RunStatus.SUCCEEDED
    assert state["scopes"]["lexical"] == []
    assert state["scopes"]["workflow"]["__forEach"] == {}


def test_for_each_over_nothing_skips_the_body() -> None:
    trace = drive(program(_loop(), action("after")), start({"items": []}), echo)
    assert [path for path, _ in called(trace)] == ["root.steps[1]"]


@pytest.mark.parametrize(
    ("loop", "payload", "category", "message"),
    [
        (
            _loop(concurrency=2),
            {"items": [1]},
            "ValidationError",
            "control.forEach concurrency > 1 is not supported in Temporal-native runtime v1",
        ),
        (
            _loop(),
            {"items": "abc"},
            "ActionError",
            "control.forEach items did not evaluate to an array",
        ),
    ],
)
def test_for_each_refuses_what_it_cannot_iterate(
    loop: dict[str, Any], payload: dict[str, Any], category: str, message: str
) -> None:
    trace = drive(program(loop), start(payload), echo)
    assert trace.last.run_error is not None
    assert (trace.last.run_error["category"], trace.last.run_error["message"]) == (
        category,
        message,
    )


def _fail_on_20(planned: Plan) -> Succeeded | Failed:
    assert isinstance(planned, CallAction)
    if planned.request.input.get("v") == 20:
        return Failed({"category": "ActionError", "message": "no 20", "at": NOW_ISO})
    return echo(planned)


def test_for_each_item_errors_continue_only_when_asked() -> None:
    trace = drive(
        program(_loop(onItemError="continue")), start({"items": [10, 20, 30]}), _fail_on_20
    )
    assert [value["v"] for _, value in called(trace)] == [10, 20, 30]
    assert trace.last.run_status is RunStatus.SUCCEEDED
    failed = [t for t in trace.transitions if t.step_status is StepStatus.FAILED]
    assert len(failed) == 1
    assert failed[0].run_status is None

    trace = drive(program(_loop()), start({"items": [10, 20, 30]}), _fail_on_20)
    assert [value["v"] for _, value in called(trace)] == [10, 20]
    assert trace.last.run_status is RunStatus.FAILED


# --- control.tryCatch and control.return ---------------------------------------------------------


def _boom(planned: Plan) -> Succeeded | Failed:
    assert isinstance(planned, CallAction)
    if planned.request.action_id == "test.boom":
        return Failed({"category": "ActionError", "message": "kaput", "at": NOW_ISO})
    return echo(planned)


def test_try_catch_routes_a_failure_to_catch_with_the_error_captured() -> None:
    prog = program(
        {
            "id": "try",
            "type": "control.tryCatch",
            "try": [action("boom", "test.boom"), action("never")],
            "catch": [action("handled", inputMapping={"msg": expr("vars.err.message")})],
            "captureErrorAs": "err",
        },
        action("after"),
    )
    state = start()
    trace = drive(prog, state, _boom)
    assert [path for path, _ in called(trace)] == [
        "root.steps[0].try.steps[0]",
        "root.steps[0].catch.steps[0]",
        "root.steps[1]",
    ]
    assert called(trace)[1][1] == {"msg": "kaput"}
    boom = trace.transitions[1]
    assert (boom.step_status, boom.run_status) == (StepStatus.FAILED, None)
    assert state["scopes"]["error"]["message"] == "kaput"
    assert trace.last.run_status is RunStatus.SUCCEEDED


def test_control_return_ends_the_run_successfully_at_once() -> None:
    prog = program(action("a"), {"id": "r", "type": "control.return"}, action("never"))
    trace = drive(prog, start(), echo)
    assert [path for path, _ in called(trace)] == ["root.steps[0]"]
    returned = trace.plans[-1]
    assert isinstance(returned, Performed)
    assert returned.transition.run_status is RunStatus.SUCCEEDED
    assert returned.transition.step_status is StepStatus.SUCCEEDED


# --- control.callWorkflow ------------------------------------------------------------------------


def _call_child(**extra: Any) -> dict[str, Any]:
    return {
        "id": "c",
        "type": "control.callWorkflow",
        "workflowId": "child-wf",
        "workflowVersion": 2,
        "inputMapping": {"n": expr("payload.n * 2")},
        "outputMapping": {
            "vars.got": expr("childRun.vars.result"),
            "n": expr("childRun.payload.n"),
        },
        **extra,
    }


def test_call_workflow_asks_for_a_child_and_maps_its_output() -> None:
    prog = program(_call_child())
    state = start({"n": 3})
    planned = plan(prog, state, NOW)
    assert isinstance(planned, StartChild)
    assert planned.request == ChildRequest(
        workflow_id="child-wf", workflow_version=2, input={"n": 6}
    )
    child_scopes = {"payload": {"n": 6}, "workflow": {"result": "done"}, "lexical": [], "meta": {}}
    transition = complete(prog, state, "root.steps[0]", Succeeded(child_scopes), NOW)
    assert transition.step_status is StepStatus.SUCCEEDED
    assert state["scopes"]["workflow"] == {"got": "done", "n": 6}


def test_call_workflow_needs_a_version_and_retries_a_failed_child() -> None:
    trace = drive(program(_call_child(workflowVersion=0)), start({"n": 1}), echo)
    assert trace.last.run_error is not None
    assert trace.last.run_error["message"] == "control.callWorkflow requires workflowVersion"

    prog = program(_call_child(retry={"maxAttempts": 2}))
    state = start({"n": 1})
    failure = Failed({"category": "ChildWorkflowError", "message": "child failed", "at": NOW_ISO})
    first = complete(prog, state, "root.steps[0]", failure, NOW)
    assert first.retry is not None and first.retry.attempt == 2
    second = complete(prog, state, "root.steps[0]", failure, NOW)
    assert second.run_status is RunStatus.FAILED


# --- waits ---------------------------------------------------------------------------------------


def test_event_wait_asks_for_a_keyed_wait_and_applies_the_event() -> None:
    prog = program(
        {
            "id": "w",
            "type": "event.wait",
            "config": {
                "eventName": "TICKET_UPDATED",
                "correlationKey": expr("payload.ticketId"),
                "timeoutMs": 60000,
                "filters": [{"path": "status", "op": "=", "value": "open"}],
                "assign": {"vars.status": expr("vars.event.status")},
            },
        }
    )
    state = start({"ticketId": 5})
    planned = plan(prog, state, NOW)
    assert isinstance(planned, OpenWait)
    request = planned.request
    assert (request.type, request.event_name, request.key) == (
        WaitType.EVENT,
        "TICKET_UPDATED",
        "5",
    )
    assert request.due_at == "2026-03-01T09:01:00.250Z"
    assert request.payload == {
        "eventName": "TICKET_UPDATED",
        "correlationKey": "5",
        "filters": [{"path": "status", "op": "=", "value": "open"}],
        "timeoutAt": "2026-03-01T09:01:00.250Z",
    }
    event = {"eventName": "TICKET_UPDATED", "payload": {"status": "open"}}
    complete(prog, state, "root.steps[0]", Succeeded(event), NOW)
    variables = state["scopes"]["workflow"]
    assert variables == {
        "event": {"status": "open"},
        "eventName": "TICKET_UPDATED",
        "status": "open",
    }


def test_an_event_wait_timing_out_fails_the_run() -> None:
    prog = program(
        {
            "id": "w",
            "type": "event.wait",
            "config": {"eventName": "E", "correlationKey": expr("'k'")},
        }
    )
    state = start()
    planned = plan(prog, state, NOW)
    assert isinstance(planned, OpenWait) and planned.request.due_at is None
    timeout = Failed({"category": "TimeoutError", "message": "timed out", "at": NOW_ISO})
    assert complete(prog, state, "root.steps[0]", timeout, NOW).run_status is RunStatus.FAILED


@pytest.mark.parametrize(
    ("config", "due"),
    [
        ({"mode": "duration", "durationMs": 1500}, "2026-03-01T09:00:01.750Z"),
        ({"mode": "until", "until": expr("'2026-04-01'")}, "2026-04-01T00:00:00.000Z"),
        ({"mode": "until", "until": expr("$nowIso()")}, NOW_ISO),  # the step's now, no clock
    ],
)
def test_time_wait_asks_for_a_timer_at_its_due_time(config: dict[str, Any], due: str) -> None:
    prog = program({"id": "t", "type": "time.wait", "config": config})
    state = start()
    planned = plan(prog, state, NOW)
    assert isinstance(planned, OpenWait)
    assert (planned.request.type, planned.request.due_at) == (WaitType.TIME, due)
    resumed = {**planned.request.payload, "resumedAt": "2026-05-01T00:00:00.000Z"}
    complete(prog, state, "root.steps[0]", Succeeded(resumed), NOW)
    assert state["scopes"]["workflow"]["timeWait"] == {
        "mode": config["mode"],
        "dueAt": due,
        "resumedAt": "2026-05-01T00:00:00.000Z",
    }


def test_time_wait_with_a_bad_mode_fails() -> None:
    trace = drive(
        program({"id": "t", "type": "time.wait", "config": {"mode": "soon"}}), start(), echo
    )
    assert trace.last.run_error is not None
    assert trace.last.run_error["message"] == "time.wait mode must be 'duration' or 'until'"


def test_human_task_asks_for_a_task_and_applies_the_response() -> None:
    prog = program(
        {
            "id": "h",
            "type": "human.task",
            "config": {
                "taskType": "approval",
                "title": expr("'Approve ' & payload.name"),
                "description": expr("'please'"),
                "contextData": {"amount": expr("payload.amount"), "fixed": 1},
            },
        }
    )
    state = start({"name": "Bob", "amount": 5})
    planned = plan(prog, state, NOW)
    assert isinstance(planned, OpenWait)
    request = planned.request
    assert (request.type, request.event_name, request.key, request.due_at) == (
        WaitType.HUMAN,
        "HUMAN_TASK_COMPLETED",
        None,
        None,
    )
    assert request.task == HumanTask("approval", "Approve Bob", "please", {"amount": 5, "fixed": 1})
    response = {"taskId": "t1", "eventName": "HUMAN_TASK_COMPLETED", "response": {"ok": True}}
    complete(prog, state, "root.steps[0]", Succeeded(response), NOW)
    assert state["scopes"]["workflow"]["event"] == {"ok": True}
