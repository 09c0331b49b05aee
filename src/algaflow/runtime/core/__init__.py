"""The pure interpreter core: from a definition, the run state, ``now`` and one input (start, step
result, wait resolved, timer fired) to the next state and the effects to perform.

It never reads the clock, makes ids or touches a database (an import-linter contract keeps
SQLAlchemy, the store, the clock and the backends out), so the same inputs always give the same
transitions and a backend (embedded today, Temporal later) can replay it.
"""

from .errors import StepFailure, normalize_error
from .interpreter import (
    MAX_RETRY_DELAY_MS,
    backoff_ms,
    complete,
    current_attempt,
    current_path,
    evaluate,
    fail,
    new_state,
    plan,
)
from .program import Program, definition_hash
from .scopes import initial_scopes
from .types import (
    ActionRequest,
    CallAction,
    ChildRequest,
    Failed,
    Finished,
    HumanTask,
    NodeRequest,
    OpenWait,
    Outcome,
    Performed,
    Plan,
    Retry,
    RunNode,
    RunStatus,
    StartChild,
    State,
    StepKind,
    StepRef,
    StepStatus,
    Succeeded,
    Transition,
    WaitRequest,
    WaitType,
    outcome_from_json,
)

__all__ = [
    "MAX_RETRY_DELAY_MS",
    "ActionRequest",
    "CallAction",
    "ChildRequest",
    "Failed",
    "Finished",
    "HumanTask",
    "NodeRequest",
    "OpenWait",
    "Outcome",
    "Performed",
    "Plan",
    "Program",
    "Retry",
    "RunNode",
    "RunStatus",
    "StartChild",
    "State",
    "StepFailure",
    "StepKind",
    "StepRef",
    "StepStatus",
    "Succeeded",
    "Transition",
    "WaitRequest",
    "WaitType",
    "backoff_ms",
    "complete",
    "current_attempt",
    "current_path",
    "definition_hash",
    "evaluate",
    "fail",
    "initial_scopes",
    "new_state",
    "normalize_error",
    "outcome_from_json",
    "plan",
]
