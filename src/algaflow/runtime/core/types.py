"""The core's typed vocabulary: step kinds, statuses, what it asks for, what comes back.

A plan is one of six frozen values, a request says exactly what a backend must perform, and an
outcome is :class:`Succeeded` or :class:`Failed`: a backend dispatches on the type, so no string
compare can fall through to a wrong branch. The run state itself stays plain JSON (a backend
persists it as it is) and is described in :mod:`algaflow.runtime.core.interpreter`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from .errors import StepFailure

JSONObject = dict[str, Any]
#: The JSON run state: ``{"frames", "scopes", "retry"}`` plus keys a backend owns.
State = dict[str, Any]


class StepKind(Enum):
    """What the interpreter does with a step; every other ``control.*`` type is refused."""

    RETURN = "control.return"
    IF = "control.if"
    FOR_EACH = "control.forEach"
    TRY_CATCH = "control.tryCatch"
    CALL_WORKFLOW = "control.callWorkflow"
    ACTION = "action.call"
    EVENT_WAIT = "event.wait"
    TIME_WAIT = "time.wait"
    HUMAN_TASK = "human.task"
    NODE = "node"  # a registry node type (state.set, transform.*, email.*...): a backend runs it

    @classmethod
    def of(cls, step: Mapping[str, Any]) -> StepKind:
        """The kind of ``step``; a :class:`StepFailure` for a missing type or an unknown
        ``control.*`` block (whether a node type exists is the registry's to say)."""
        kind = step.get("type")
        if not isinstance(kind, str) or not kind:
            raise StepFailure(
                "ValidationError", "Step must have a type field", code="UNKNOWN_STEP_KIND"
            )
        try:
            return cls(kind)
        except ValueError:
            if kind.startswith("control."):
                raise StepFailure(
                    "ValidationError", f"Unknown control block {kind}", code="UNKNOWN_STEP_KIND"
                ) from None
            return cls.NODE

    @property
    def is_wait(self) -> bool:
        return self in (StepKind.EVENT_WAIT, StepKind.TIME_WAIT, StepKind.HUMAN_TASK)


class StepStatus(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


class RunStatus(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


class WaitType(StrEnum):
    EVENT = "event"
    TIME = "time"
    HUMAN = "human"


# --- what a backend is asked to perform ----------------------------------------------------------


@dataclass(frozen=True)
class ActionRequest:
    """Call an action. ``secrets`` are ``(pointer, name)`` pairs the call resolves, so secret
    values never enter the run state."""

    action_id: str
    version: int
    input: JSONObject
    secrets: tuple[tuple[str, str], ...]
    idempotency_key: str | None
    attempt: int
    step_config: Any
    expression_context: JSONObject


@dataclass(frozen=True)
class NodeRequest:
    """Run the registry node ``type`` on the envelope; it answers with a new envelope."""

    type: str
    config: Any
    envelope: JSONObject


@dataclass(frozen=True)
class HumanTask:
    task_type: str
    title: str
    description: str | None
    context_data: JSONObject


@dataclass(frozen=True)
class WaitRequest:
    """Open a wait. ``key`` is the correlation key (a human task's is its id, made by the
    backend); ``due_at`` an ISO instant; ``payload`` what the wait row keeps."""

    type: WaitType
    event_name: str | None
    key: str | None
    due_at: str | None
    payload: JSONObject
    task: HumanTask | None = None


@dataclass(frozen=True)
class ChildRequest:
    """Start a child run of ``workflow_id``@``workflow_version`` with ``input`` as its payload."""

    workflow_id: str
    workflow_version: int
    input: JSONObject


# --- what happened -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retry:
    """The step runs again as ``attempt`` after ``delay_ms``, because of ``error``."""

    attempt: int
    delay_ms: int
    error: JSONObject


@dataclass(frozen=True)
class Transition:
    """The outcome of one core call: the new state plus what to record.

    ``step_status`` is None while the step goes on (a retry); ``run_status`` is set when the run
    ends here.
    """

    state: State
    step_status: StepStatus | None = None
    step_error: JSONObject | None = None
    run_status: RunStatus | None = None
    run_error: JSONObject | None = None
    retry: Retry | None = None


@dataclass(frozen=True)
class Succeeded:
    """A step's result: an action's output, a node's envelope, a resolved wait, child scopes."""

    value: Any


@dataclass(frozen=True)
class Failed:
    """A step's failure, already a runtime error ``{category, message, nodePath, at, ...}``."""

    error: JSONObject


Outcome = Succeeded | Failed


def outcome_from_json(outcome: Mapping[str, Any]) -> Outcome:
    """``{"ok": value}`` or ``{"error": runtimeError}`` (the wire form) as an :data:`Outcome`."""
    if "error" in outcome:
        return Failed(dict(outcome["error"]))
    if "ok" in outcome:
        return Succeeded(outcome["ok"])
    raise ValueError("an outcome is {'ok': value} or {'error': runtimeError}")


# --- plans ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRef:
    """Where a plan is: the step path and the step (both None once the run has no step)."""

    path: str | None
    step: JSONObject | None


@dataclass(frozen=True)
class Finished(StepRef):
    """The run has no current step: it ends with ``transition.run_status``."""

    transition: Transition


@dataclass(frozen=True)
class Performed(StepRef):
    """The core performed the step itself (control flow, or a failure routed already)."""

    transition: Transition


@dataclass(frozen=True)
class CallAction(StepRef):
    request: ActionRequest


@dataclass(frozen=True)
class RunNode(StepRef):
    request: NodeRequest


@dataclass(frozen=True)
class OpenWait(StepRef):
    request: WaitRequest


@dataclass(frozen=True)
class StartChild(StepRef):
    request: ChildRequest


Plan = Finished | Performed | CallAction | RunNode | OpenWait | StartChild
