"""The same definition, state, ``now`` and inputs give the same transitions, whatever the clock."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from hypothesis import given, settings
from hypothesis import strategies as st

from algaflow.kernel import clock
from algaflow.kernel.instants import iso_millis
from algaflow.runtime.core import (
    CallAction,
    Failed,
    OpenWait,
    Plan,
    RunNode,
    StartChild,
    Succeeded,
)

from .pure import NOW, NOW_ISO, Trace, action, drive, expr, program, start

# Every kind of step, with $nowIso() deciding a branch and flowing into inputs and waits.
PROGRAM = program(
    action("stamp", inputMapping={"at": expr("$nowIso()")}, saveAs="stamp"),
    {
        "id": "when",
        "type": "control.if",
        "condition": expr("$nowIso() < '2026-06-01'"),
        "then": [action("early")],
        "else": [action("late")],
    },
    {
        "id": "loop",
        "type": "control.forEach",
        "items": expr("[1, 2]"),
        "itemVar": "i",
        "body": [action("each", inputMapping={"i": expr("i"), "at": expr("$nowIso()")})],
    },
    {
        "id": "try",
        "type": "control.tryCatch",
        "try": [action("boom", "test.boom")],
        "catch": [{"id": "fix", "type": "transform.assign", "config": {"assign": {}}}],
        "captureErrorAs": "caught",
    },
    {"id": "wait", "type": "time.wait", "config": {"mode": "duration", "durationMs": 1000}},
    {
        "id": "ev",
        "type": "event.wait",
        "config": {"eventName": "E", "correlationKey": expr("$nowIso()"), "timeoutMs": 5},
    },
    {"id": "task", "type": "human.task", "config": {"taskType": "t", "title": expr("$nowIso()")}},
    {
        "id": "child",
        "type": "control.callWorkflow",
        "workflowId": "c",
        "workflowVersion": 1,
        "inputMapping": {"at": expr("$nowIso()")},
    },
    {"id": "end", "type": "control.return"},
)


def respond(planned: Plan) -> Any:
    """Stand-ins for everything the core asks for; the boom action fails."""
    if isinstance(planned, CallAction):
        if planned.request.action_id == "test.boom":
            return Failed({"category": "ActionError", "message": "boom", "at": "fixed"})
        return Succeeded({"echo": planned.request.input})
    if isinstance(planned, RunNode):
        return Succeeded(planned.request.envelope)
    if isinstance(planned, OpenWait):
        return Succeeded({**planned.request.payload, "resumedAt": "fixed"})
    if isinstance(planned, StartChild):
        return Succeeded({"payload": planned.request.input, "workflow": {}, "lexical": []})
    raise AssertionError(planned)


def run_at(now: datetime) -> tuple[Trace, dict[str, Any]]:
    state = start({"n": 1})
    trace = drive(PROGRAM, state, respond, now=now)
    return trace, copy.deepcopy(state)


def test_the_same_inputs_give_the_same_transitions_with_the_clock_moved() -> None:
    with clock.frozen(now=lambda: datetime(2020, 1, 1, tzinfo=UTC)):
        first, first_state = run_at(NOW)
    with clock.frozen(now=lambda: datetime(2031, 12, 31, 23, 59, tzinfo=UTC)):
        second, second_state = run_at(NOW)
    assert first.plans == second.plans
    assert first.transitions == second.transitions
    assert first_state == second_state
    # $nowIso() is the step's now, so the early branch is taken whatever the wall clock says.
    inputs = [(p.path, p.request.input) for p in first.plans if isinstance(p, CallAction)]
    assert inputs[0] == ("root.steps[0]", {"at": NOW_ISO})
    assert inputs[1] == ("root.steps[1].then.steps[0]", {})
    assert inputs[2:4] == [
        ("root.steps[2].body.steps[0]", {"i": 1, "at": NOW_ISO}),
        ("root.steps[2].body.steps[0]", {"i": 2, "at": NOW_ISO}),
    ]
    waits = [p.request for p in first.plans if isinstance(p, OpenWait)]
    assert [w.due_at for w in waits] == [
        iso_millis(NOW + timedelta(seconds=1)),
        iso_millis(NOW + timedelta(milliseconds=5)),
        None,
    ]
    assert waits[1].key == NOW_ISO
    assert waits[2].task is not None and waits[2].task.title == NOW_ISO
    assert first_state["scopes"]["workflow"]["caught"]["message"] == "boom"
    assert first.last.run_status is not None and first.last.run_status.value == "SUCCEEDED"


def _no_clock() -> NoReturn:
    raise AssertionError("the core read the clock")


def _no_ids() -> NoReturn:
    raise AssertionError("the core made an id")


def test_the_core_never_reads_the_clock_nor_makes_ids() -> None:
    with clock.frozen(now=_no_clock, new_id=_no_ids):
        trace, _ = run_at(NOW)
    assert trace.last.run_status is not None


@settings(max_examples=25, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC),
    )
)
def test_any_now_gives_the_same_run_twice_and_is_what_now_iso_answers(now: datetime) -> None:
    first, first_state = run_at(now)
    second, second_state = run_at(now)
    assert first.plans == second.plans
    assert first_state == second_state
    assert first_state["scopes"]["workflow"]["stamp"] == {"echo": {"at": iso_millis(now)}}
    branch = [p.path for p in first.plans if isinstance(p, CallAction)][1]
    expected = "then" if iso_millis(now) < "2026-06-01" else "else"
    assert branch == f"root.steps[1].{expected}.steps[0]"
