"""A tiny pure backend for core tests: plan, answer each request with a stand-in, complete.

No database and no registry: actions and nodes are answered by the test's ``respond`` function,
so each test sees exactly which plans the core made and which transitions it returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from algaflow.runtime.core import (
    Finished,
    Outcome,
    Performed,
    Plan,
    Program,
    State,
    Transition,
    complete,
    initial_scopes,
    new_state,
    plan,
)

NOW = datetime(2026, 3, 1, 9, 0, 0, 250000, tzinfo=UTC)
NOW_ISO = "2026-03-01T09:00:00.250Z"

Respond = Callable[[Plan], Outcome | None]


def expr(source: str) -> dict[str, str]:
    return {"$expr": source}


def action(step_id: str, action_id: str = "test.echo", **config: Any) -> dict[str, Any]:
    """An ``action.call`` step; ``retry``/``onError`` go on the step, the rest into config."""
    step: dict[str, Any] = {"id": step_id, "type": "action.call"}
    for name in ("retry", "onError"):
        if name in config:
            step[name] = config.pop(name)
    step["config"] = {"actionId": action_id, "version": 1, **config}
    return step


def program(*steps: dict[str, Any]) -> Program:
    return Program(
        {"id": "wf-1", "version": 1, "name": "t", "payloadSchemaRef": "p", "steps": list(steps)}
    )


def start(payload: Any = None, *, meta: dict[str, Any] | None = None) -> State:
    system = {
        "runId": "run-1",
        "workflowId": "wf-1",
        "workflowVersion": 1,
        "tenantId": "tenant-1",
        "startedAt": "2026-03-01T09:00:00.000Z",
    }
    return new_state(initial_scopes(payload or {}, system=system, meta=meta))


@dataclass
class Trace:
    """What a drive did: every plan, every transition, and where it stopped."""

    plans: list[Plan] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    stopped_at: Plan | None = None

    @property
    def last(self) -> Transition:
        return self.transitions[-1]


def drive(
    prog: Program,
    state: State,
    respond: Respond,
    *,
    now: datetime = NOW,
    max_steps: int = 200,
) -> Trace:
    """Plan and complete until the run ends, or ``respond`` answers None (a wait stays open)."""
    trace = Trace()
    for _ in range(max_steps):
        planned = plan(prog, state, now)
        trace.plans.append(planned)
        if isinstance(planned, Finished | Performed):
            transition = planned.transition
        else:
            outcome = respond(planned)
            if outcome is None:
                trace.stopped_at = planned
                return trace
            assert planned.path is not None
            transition = complete(prog, state, planned.path, outcome, now)
        trace.transitions.append(transition)
        if transition.run_status is not None:
            return trace
    raise AssertionError("the run did not end")
