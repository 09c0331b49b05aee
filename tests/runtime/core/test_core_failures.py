"""Retries, onError, failures in an action's own input, and step kinds the core refuses."""

from __future__ import annotations

from typing import Any

import pytest

from algaflow.runtime.core import (
    CallAction,
    Failed,
    Performed,
    Plan,
    Retry,
    RunStatus,
    StepFailure,
    StepKind,
    StepStatus,
    Succeeded,
    complete,
    plan,
)

from .pure import NOW, NOW_ISO, action, drive, expr, program, start

ERROR = {"category": "TransientError", "message": "try again", "at": NOW_ISO}


def _always_failing(attempts: list[int]) -> Any:
    def respond(planned: Plan) -> Failed:
        assert isinstance(planned, CallAction)
        attempts.append(planned.request.attempt)
        return Failed(ERROR)

    return respond


def test_a_retry_policy_asks_for_more_attempts_with_backoff_then_fails() -> None:
    retry = {"maxAttempts": 3, "backoffMs": 100, "backoffMultiplier": 2}
    attempts: list[int] = []
    state = start()
    trace = drive(program(action("a", retry=retry)), state, _always_failing(attempts))
    assert attempts == [1, 2, 3]
    assert [t.retry for t in trace.transitions] == [
        Retry(attempt=2, delay_ms=100, error=ERROR),
        Retry(attempt=3, delay_ms=200, error=ERROR),
        None,
    ]
    assert [t.step_status for t in trace.transitions] == [None, None, StepStatus.FAILED]
    assert trace.last.run_status is RunStatus.FAILED
    assert trace.last.run_error == ERROR
    assert state["retry"] is None


def test_retry_on_limits_the_categories_retried() -> None:
    attempts: list[int] = []
    retry = {"maxAttempts": 3, "retryOn": ["ActionError"]}
    trace = drive(program(action("a", retry=retry)), start(), _always_failing(attempts))
    assert attempts == [1]
    assert trace.last.run_status is RunStatus.FAILED


def test_a_success_after_a_retry_clears_the_retry_state() -> None:
    prog = program(action("a", retry={"maxAttempts": 2}), action("b"))
    state = start()
    first = complete(prog, state, "root.steps[0]", Failed(ERROR), NOW)
    assert state["retry"] == {"path": "root.steps[0]", "attempt": 2}
    assert first.retry is not None
    again = plan(prog, state, NOW)
    assert isinstance(again, CallAction) and again.request.attempt == 2
    complete(prog, state, "root.steps[0]", Succeeded({}), NOW)
    assert state["retry"] is None
    following = plan(prog, state, NOW)
    assert isinstance(following, CallAction) and following.path == "root.steps[1]"
    assert following.request.attempt == 1


def test_on_error_continue_records_the_error_and_goes_on() -> None:
    prog = program(action("a", onError={"policy": "continue"}), action("b"))
    state = start()
    transition = complete(prog, state, "root.steps[0]", Failed(ERROR), NOW)
    assert (transition.step_status, transition.step_error) == (StepStatus.SUCCEEDED, ERROR)
    assert transition.run_status is None
    assert state["scopes"]["error"] == ERROR
    nxt = plan(prog, state, NOW)
    assert isinstance(nxt, CallAction) and nxt.path == "root.steps[1]"


def test_an_action_input_that_fails_to_resolve_is_retried_like_the_call() -> None:
    prog = program(
        action("a", inputMapping={"v": expr("payload.missing")}, retry={"maxAttempts": 2})
    )
    state = start()
    first = plan(prog, state, NOW)
    assert isinstance(first, Performed)
    assert first.transition.retry is not None
    assert first.transition.retry.attempt == 2
    assert first.transition.retry.error["category"] == "ExpressionError"
    assert first.transition.retry.error["at"] == NOW_ISO
    second = plan(prog, state, NOW)
    assert isinstance(second, Performed)
    assert second.transition.run_status is RunStatus.FAILED


# --- step kinds ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step_type", "kind"),
    [
        ("control.return", StepKind.RETURN),
        ("control.if", StepKind.IF),
        ("control.forEach", StepKind.FOR_EACH),
        ("control.tryCatch", StepKind.TRY_CATCH),
        ("control.callWorkflow", StepKind.CALL_WORKFLOW),
        ("action.call", StepKind.ACTION),
        ("event.wait", StepKind.EVENT_WAIT),
        ("time.wait", StepKind.TIME_WAIT),
        ("human.task", StepKind.HUMAN_TASK),
        ("state.set", StepKind.NODE),
        ("transform.assign", StepKind.NODE),
        ("email.parseBody", StepKind.NODE),
    ],
)
def test_each_step_type_has_one_kind(step_type: str, kind: StepKind) -> None:
    assert StepKind.of({"type": step_type}) is kind


@pytest.mark.parametrize("step_type", ["control.nope", "control.", None, "", 5, ["action.call"]])
def test_an_unknown_control_block_or_a_missing_type_raises(step_type: Any) -> None:
    with pytest.raises(StepFailure) as caught:
        StepKind.of({"type": step_type})
    assert caught.value.code == "UNKNOWN_STEP_KIND"
    assert caught.value.category == "ValidationError"


@pytest.mark.parametrize("step", [{"id": "x", "type": "control.nope"}, {"id": "x"}])
def test_a_run_at_an_unknown_step_kind_fails_instead_of_asking_for_a_node(
    step: dict[str, Any],
) -> None:
    state = start()
    planned = plan(program(step, action("after")), state, NOW)
    assert isinstance(planned, Performed)
    assert planned.transition.run_status is RunStatus.FAILED
    assert planned.transition.run_error is not None
    assert planned.transition.run_error["code"] == "UNKNOWN_STEP_KIND"
    assert planned.transition.run_error["nodePath"] == "root.steps[0]"


def test_complete_refuses_an_outcome_of_another_type() -> None:
    prog = program(action("a"))
    with pytest.raises(TypeError):
        complete(prog, start(), "root.steps[0]", {"ok": 1}, NOW)  # type: ignore[arg-type]


def test_completing_a_step_the_interpreter_performs_itself_fails_the_run() -> None:
    prog = program({"id": "r", "type": "control.return"})
    transition = complete(prog, start(), "root.steps[0]", Succeeded({}), NOW)
    assert transition.run_status is RunStatus.FAILED
    assert transition.run_error is not None
    assert transition.run_error["category"] == "InterpreterCorruption"
