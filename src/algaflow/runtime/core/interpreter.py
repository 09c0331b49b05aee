"""The deterministic interpreter (reference §3): from definition, state, ``now`` and one input to
the next state and what to perform.

``plan(program, state, now)`` looks at the current step and either performs it (control flow, which
needs nothing from outside: :class:`Performed`) or asks a backend to perform it
(:class:`CallAction`, :class:`RunNode`, :class:`OpenWait`, :class:`StartChild`).
``complete(program, state, path, outcome, now)`` applies what came back (:class:`Succeeded` or
:class:`Failed`) and advances. Neither reads the clock, makes ids or touches a database: ``now``
is the time every expression (``$nowIso()`` included) and every error stamp uses, so the same
inputs always give the same transitions.

Both functions update ``state`` in place and return it inside a :class:`Transition` (copy it first
if you need the old one); a backend persists it after every step.

State: ``{"frames": [{"path", "next"}], "scopes": {...}, "retry": {"path", "attempt"} | None}``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any, assert_never

from algaflow.expressions import (
    ExpressionError,
    MappingError,
    is_expr,
    resolve_input_mapping,
)
from algaflow.kernel.instants import iso_millis
from algaflow.kernel.jsvalues import js_string

from . import waits
from .errors import StepFailure, ensure_storable, normalize_error
from .program import Program, compiled
from .scopes import apply_envelope, assign_to_scope_path, envelope, interpreter_context
from .types import (
    ActionRequest,
    CallAction,
    ChildRequest,
    Failed,
    Finished,
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
    StepStatus,
    Succeeded,
    Transition,
)

Evaluate = Callable[[Any, dict[str, Any]], Any]


def new_state(scopes: dict[str, Any]) -> State:
    """A run at its first step."""
    return {"frames": [{"path": "root.steps", "next": 0}], "scopes": scopes, "retry": None}


def current_path(program: Program, state: dict[str, Any]) -> str | None:
    """The path of the step the run is at, or None when it has none."""
    frames = state["frames"]
    if not frames:
        return None
    top = frames[-1]
    seq = program.sequence(top["path"])
    if seq is None or top["next"] >= len(seq):
        return None
    return f"{top['path']}[{top['next']}]"


# --- planning ------------------------------------------------------------------------------------


def plan(program: Program, state: State, now: datetime) -> Plan:
    """Decide the current step. Control steps are performed here; the rest become requests."""
    frames = state["frames"]
    if not frames:
        return Finished(None, None, Transition(state, run_status=RunStatus.SUCCEEDED))
    path = current_path(program, state)
    step = program.step(path) if path else None
    if path is None or step is None:
        error = {
            "category": "InterpreterCorruption",
            "message": "Interpreter could not resolve the current step",
            "nodePath": "interpreter",
            "at": iso_millis(now),
        }
        return Finished(None, None, Transition(state, run_status=RunStatus.FAILED, run_error=error))
    try:
        kind = StepKind.of(step)
        return _plan_step(program, state, path, step, kind, now)
    except (StepFailure, ExpressionError, MappingError) as exc:
        # An action's input is resolved inside its attempt in Alga, so retry and onError apply.
        error = normalize_error(_plain(exc), path, iso_millis(now))
        routed = (
            _failed(program, state, path, step, error)
            if step.get("type") == StepKind.ACTION.value
            else fail(program, state, path, error)
        )
        return Performed(path, step, routed)


def _plain(exc: BaseException) -> BaseException:
    """Interpreter-evaluated expressions fail as plain errors: ActionError (§3.5.1)."""
    if isinstance(exc, ExpressionError):
        return RuntimeError(str(exc))
    return exc


def _plan_step(
    program: Program,
    state: State,
    path: str,
    step: dict[str, Any],
    kind: StepKind,
    now: datetime,
) -> Plan:
    """Perform a control step here, or say what a backend must do (every kind is handled: mypy
    checks the match is exhaustive)."""
    scopes = state["scopes"]
    at_now = evaluator(now)
    match kind:
        case StepKind.RETURN:
            return Performed(path, step, _done(state, run_status=RunStatus.SUCCEEDED))
        case StepKind.IF:
            value = at_now(step.get("condition"), interpreter_context(scopes))
            if not isinstance(value, bool):
                raise StepFailure("ActionError", "control.if condition must evaluate to a boolean")
            branch = "then" if value else "else"
            _advance(program, state, f"{path}.{branch}.steps", step.get(branch))
            return Performed(path, step, _done(state))
        case StepKind.FOR_EACH:
            _start_loop(program, state, path, step, at_now)
            return Performed(path, step, _done(state))
        case StepKind.TRY_CATCH:
            _advance(program, state, f"{path}.try.steps", step.get("try"))
            return Performed(path, step, _done(state))
        case StepKind.CALL_WORKFLOW:
            return StartChild(path, step, _child_request(step, scopes, at_now))
        case StepKind.ACTION:
            return CallAction(path, step, _action_request(state, path, step, now))
        case StepKind.EVENT_WAIT | StepKind.TIME_WAIT | StepKind.HUMAN_TASK:
            ctx = interpreter_context(scopes)
            return OpenWait(path, step, waits.request(kind, step, ctx, now, at_now))
        case StepKind.NODE:
            node = NodeRequest(
                type=step["type"], config=step.get("config"), envelope=envelope(scopes)
            )
            return RunNode(path, step, node)
        case _:
            assert_never(kind)


def _done(state: State, run_status: RunStatus | None = None) -> Transition:
    return Transition(state, StepStatus.SUCCEEDED, run_status=run_status)


def evaluate(expr: Any, ctx: dict[str, Any], now: datetime) -> Any:
    """Evaluate an Expr (or pass a literal through) in an interpreter context at ``now``.

    A result the databases cannot store fails the step (``UNSTORABLE_VALUE``), before anything
    keeps it.
    """
    if is_expr(expr):
        value = compiled(expr["$expr"]).evaluate(ctx, now=now)
        return ensure_storable(value, "The expression result")
    if isinstance(expr, dict) and "$expr" in expr:
        raise StepFailure("ActionError", "Expression must be a string")
    return expr


def evaluator(now: datetime) -> Evaluate:
    """:func:`evaluate` with its ``now`` bound, for helpers that take ``evaluate(expr, ctx)``."""
    return lambda expr, ctx: evaluate(expr, ctx, now)


class _SecretRefs:
    """A resolver that resolves nothing: each ``$secret`` stays a reference in the action's
    input (the action call resolves it), and its name is noted in mapping order."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def resolve(self, name: str, run_id: str | None) -> Any:
        self.names.append(name)
        return {"$secret": name}


def _action_request(state: State, path: str, step: dict[str, Any], now: datetime) -> ActionRequest:
    """What a backend needs to call the action. Secrets are not resolved here, so their values
    never enter the run's state."""
    raw_config = step.get("config")
    config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
    action_id, version = config.get("actionId"), config.get("version")
    if not isinstance(action_id, str) or isinstance(version, bool) or not isinstance(version, int):
        raise StepFailure("ActionError", "action.call config requires actionId and version")
    scopes = state["scopes"]
    ctx = interpreter_context(scopes)
    pointers: list[str] = []
    refs = _SecretRefs()
    mapping = config.get("inputMapping")
    args = ensure_storable(
        resolve_input_mapping(
            mapping if isinstance(mapping, dict) else {},
            ctx,
            secret_resolver=refs,
            run_id=scopes["system"].get("runId"),
            redaction_paths=pointers,
            now=now,
        )
        or {},
        f"The input of action {action_id}@{version}",
    )
    key = None
    if is_expr(config.get("idempotencyKey")):
        try:
            raw = compiled(config["idempotencyKey"]["$expr"]).evaluate(ctx, now=now)
        except ExpressionError as exc:  # Alga: evaluation failures only are ExpressionErrors
            category = "ExpressionError" if exc.stage == "evaluate" else "ActionError"
            raise StepFailure(category, exc.message) from None
        key = None if raw is None else ensure_storable(js_string(raw), "The idempotency key")
    return ActionRequest(
        action_id=action_id,
        version=version,
        input=args,
        secrets=tuple(zip(pointers, refs.names, strict=True)),
        idempotency_key=key,
        attempt=current_attempt(state, path),
        step_config=raw_config,
        expression_context=ctx,
    )


def current_attempt(state: State, path: str) -> int:
    """The attempt the step at ``path`` is on (1 unless a retry of it is pending)."""
    retry = state.get("retry") or {}
    attempt = retry.get("attempt", 1) if retry.get("path") == path else 1
    return attempt if isinstance(attempt, int) else 1


def _child_request(
    step: dict[str, Any], scopes: dict[str, Any], evaluate: Evaluate
) -> ChildRequest:
    workflow_id, version = step.get("workflowId"), step.get("workflowVersion")
    if not isinstance(workflow_id, str) or not workflow_id:
        raise StepFailure("ValidationError", "control.callWorkflow requires workflowId")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise StepFailure("ValidationError", "control.callWorkflow requires workflowVersion")
    ctx = interpreter_context(scopes)
    raw = step.get("inputMapping")
    mapping: dict[str, Any] = raw if isinstance(raw, dict) else {}
    payload = {key: evaluate(value, ctx) for key, value in mapping.items()}
    return ChildRequest(workflow_id=workflow_id, workflow_version=version, input=payload)


# --- completing a step ---------------------------------------------------------------------------


def complete(
    program: Program,
    state: State,
    path: str,
    outcome: Outcome,
    now: datetime,
) -> Transition:
    """Apply what the backend got for the step at ``path`` and advance."""
    step = program.step(path) or {}
    if isinstance(outcome, Failed):
        return _failed(program, state, path, step, outcome.error)
    if not isinstance(outcome, Succeeded):
        raise TypeError(f"an outcome is Succeeded or Failed, not {type(outcome).__name__}")
    try:
        _apply_result(state, step, outcome.value, now)
    except (StepFailure, ExpressionError, MappingError) as exc:
        error = normalize_error(_plain(exc), path, iso_millis(now))
        return fail(program, state, path, error)
    state["retry"] = None
    _advance(program, state)
    return _done(state)


def _apply_result(state: State, step: dict[str, Any], value: Any, now: datetime) -> None:
    scopes = state["scopes"]
    kind = StepKind.of(step)
    if kind is StepKind.ACTION:
        save_as = (step.get("config") or {}).get("saveAs")
        if isinstance(save_as, str) and save_as:
            assign_to_scope_path(scopes, save_as, value)
    elif kind.is_wait:
        waits.apply_resolution(kind, step, scopes, value, evaluator(now))
    elif kind is StepKind.CALL_WORKFLOW:
        _apply_child_output(step, scopes, value, evaluator(now))
    elif kind is StepKind.NODE:
        apply_envelope(scopes, value if isinstance(value, dict) else {})
    else:
        raise StepFailure(
            "InterpreterCorruption", f"{kind.value} steps are performed by the interpreter"
        )


def _apply_child_output(
    step: dict[str, Any], scopes: dict[str, Any], child: Any, evaluate: Evaluate
) -> None:
    mapping = step.get("outputMapping")
    if not isinstance(mapping, dict) or not mapping:
        return
    child_scopes = child if isinstance(child, dict) else {}
    lexical = child_scopes.get("lexical") or []
    ctx = dict(interpreter_context(scopes))
    ctx["childRun"] = {
        "payload": child_scopes.get("payload", {}),
        "vars": child_scopes.get("workflow", {}),
        "local": lexical[-1] if lexical else {},
        "system": child_scopes.get("system", {}),
        "meta": child_scopes.get("meta", {}),
    }
    values = [(target, evaluate(expr, ctx)) for target, expr in mapping.items()]
    for target, value in values:
        assign_to_scope_path(scopes, target, value)


def _failed(
    program: Program,
    state: State,
    path: str,
    step: dict[str, Any],
    error: dict[str, Any],
) -> Transition:
    kind = step.get("type")
    retriable = kind in (StepKind.ACTION.value, StepKind.CALL_WORKFLOW.value)
    if retriable and error.get("category") != "Cancellation":
        retry = _next_retry(state, path, step.get("retry"), error)
        if retry is not None:
            state["retry"] = {"path": path, "attempt": retry.attempt}
            return Transition(state, retry=retry)
    state["retry"] = None
    if kind == StepKind.ACTION.value and _on_error(step) == "continue":
        state["scopes"]["error"] = error
        _advance(program, state)
        return Transition(state, StepStatus.SUCCEEDED, step_error=error)
    return fail(program, state, path, error)


def _next_retry(state: State, path: str, policy: Any, error: dict[str, Any]) -> Retry | None:
    """Another attempt when the policy allows it (§3.6); no jitter, like Alga."""
    if not isinstance(policy, dict):
        return None
    attempt = current_attempt(state, path)
    max_attempts = policy.get("maxAttempts")
    if not isinstance(max_attempts, int) or attempt >= max_attempts:
        return None
    retry_on = policy.get("retryOn")
    if retry_on and error.get("category") not in retry_on:
        return None
    return Retry(attempt=attempt + 1, delay_ms=backoff_ms(policy, attempt), error=error)


#: The longest retry delay; Alga's runs time out after 30 days, so a longer one never fires there.
MAX_RETRY_DELAY_MS = 30 * 24 * 3600 * 1000


def backoff_ms(policy: dict[str, Any], attempt: int) -> int:
    """``floor(min(backoffMs * multiplier^(attempt-1), maxDelayMs))``, within 0..30 days."""
    base = policy.get("backoffMs") or 0
    multiplier = policy.get("backoffMultiplier", 2)
    if not base > 0:  # also NaN
        return 0
    try:
        delay = base * multiplier ** (attempt - 1)
    except OverflowError:  # a float power beyond 1e308: as good as infinite
        delay = math.inf
    if isinstance(policy.get("maxDelayMs"), int | float):
        delay = min(delay, policy["maxDelayMs"])
    if not delay > 0:
        return 0
    return int(min(delay, MAX_RETRY_DELAY_MS))


def _on_error(step: dict[str, Any]) -> str:
    config = step.get("config")
    for holder in (step, config if isinstance(config, dict) else {}):
        policy = holder.get("onError")
        if isinstance(policy, dict) and policy.get("policy") in ("fail", "continue"):
            return str(policy["policy"])
    return "fail"


def fail(program: Program, state: State, path: str, error: dict[str, Any]) -> Transition:
    """Route a step failure (§3.5.2): nearest try, else forEach continue, else the run fails."""
    category = error.get("category")
    if category == "Cancellation":
        return Transition(
            state, StepStatus.CANCELED, error, run_status=RunStatus.CANCELED, run_error=error
        )
    if category == "InterpreterCorruption":
        return Transition(
            state, StepStatus.FAILED, error, run_status=RunStatus.FAILED, run_error=error
        )
    scopes = state["scopes"]
    try_at = path.rfind(".try.steps[")
    if try_at >= 0:
        try_path = path[:try_at]
        try_step = program.step(try_path) or {}
        prefix = f"{try_path}.try.steps"
        state["frames"] = [f for f in state["frames"] if not f["path"].startswith(prefix)]
        scopes["error"] = error
        capture = try_step.get("captureErrorAs")
        if isinstance(capture, str) and capture:
            assign_to_scope_path(scopes, capture, error)
        catch = try_step.get("catch")
        if isinstance(catch, list) and catch:
            state["frames"].append({"path": f"{try_path}.catch.steps", "next": 0})
        else:
            _settle(program, state)
        return Transition(state, StepStatus.FAILED, error)
    loop_at = path.rfind(".body.steps[")
    if loop_at >= 0:
        loop_step = program.step(path[:loop_at]) or {}
        if loop_step.get("onItemError") == "continue":
            scopes["error"] = error
            _advance(program, state)
            return Transition(state, StepStatus.FAILED, error)
    return Transition(state, StepStatus.FAILED, error, run_status=RunStatus.FAILED, run_error=error)


# --- frames and loops ----------------------------------------------------------------------------


def _advance(
    program: Program, state: dict[str, Any], child_path: str | None = None, child: Any = None
) -> None:
    """Move past the current step, entering ``child`` (a branch or loop body) when non-empty."""
    frames = state["frames"]
    frames[-1]["next"] += 1
    if child_path is not None and isinstance(child, list) and child:
        frames.append({"path": child_path, "next": 0})
    else:
        _settle(program, state)


def _settle(program: Program, state: dict[str, Any]) -> None:
    """Pop exhausted frames; an exhausted loop body moves to the next item instead."""
    frames = state["frames"]
    while frames:
        top = frames[-1]
        seq = program.sequence(top["path"])
        if seq is not None and top["next"] < len(seq):
            return
        if top["path"].endswith(".body.steps"):
            loop_path = top["path"][: -len(".body.steps")]
            loop_step = program.step(loop_path) or {}
            if _next_item(state, loop_step):
                top["next"] = 0
                continue
            _finish_loop(state, loop_step)
        frames.pop()


def _loop_id(step: dict[str, Any]) -> str:
    """The key of a loop's bookkeeping in ``vars.__forEach``: its step id (a string once the
    definition is valid)."""
    step_id = step.get("id")
    return step_id if isinstance(step_id, str) else str(step_id)


def _loops(scopes: dict[str, Any]) -> dict[str, Any]:
    loops = scopes["workflow"].get("__forEach")
    if not isinstance(loops, dict):
        loops = {}
        scopes["workflow"]["__forEach"] = loops
    return loops


def _start_loop(
    program: Program, state: State, path: str, step: dict[str, Any], evaluate: Evaluate
) -> None:
    scopes = state["scopes"]
    concurrency = step.get("concurrency")
    if isinstance(concurrency, int) and not isinstance(concurrency, bool) and concurrency > 1:
        raise StepFailure(
            "ValidationError",
            "control.forEach concurrency > 1 is not supported in Temporal-native runtime v1",
        )
    items = evaluate(step.get("items"), interpreter_context(scopes))
    if not isinstance(items, list):
        raise StepFailure("ActionError", "control.forEach items did not evaluate to an array")
    item_var = step.get("itemVar")
    if not isinstance(item_var, str) or not item_var:
        raise StepFailure("ValidationError", "control.forEach requires itemVar")
    variables = scopes["workflow"]
    _loops(scopes)[_loop_id(step)] = {
        "items": items,
        "index": 0,
        "itemVar": item_var,
        "previous": variables.get(item_var),
        "hadPrevious": item_var in variables,
    }
    body = step.get("body")
    if not items or not isinstance(body, list) or not body:
        _finish_loop(state, step)
        _advance(program, state)
        return
    _enter_item(state, step, 0)
    _advance(program, state, f"{path}.body.steps", body)


def _enter_item(state: dict[str, Any], step: dict[str, Any], index: int) -> None:
    scopes = state["scopes"]
    loop = _loops(scopes)[_loop_id(step)]
    items = loop["items"]
    loop["index"] = index
    item = items[index]
    scopes["workflow"][loop["itemVar"]] = item
    local = {
        "__loopId": step.get("id"),
        loop["itemVar"]: item,
        "item": item,
        "index": index,
        "length": len(items),
        "isFirst": index == 0,
        "isLast": index == len(items) - 1,
    }
    lexical = scopes["lexical"]
    if lexical and isinstance(lexical[-1], dict) and lexical[-1].get("__loopId") == step.get("id"):
        lexical[-1] = local
    else:
        lexical.append(local)


def _next_item(state: dict[str, Any], step: dict[str, Any]) -> bool:
    loop = _loops(state["scopes"]).get(_loop_id(step))
    if not isinstance(loop, dict) or loop["index"] + 1 >= len(loop["items"]):
        return False
    _enter_item(state, step, loop["index"] + 1)
    return True


def _finish_loop(state: dict[str, Any], step: dict[str, Any]) -> None:
    """Restore (or delete) ``vars.<itemVar>``, drop the loop scope, keep ``vars.__forEach``."""
    scopes = state["scopes"]
    loop = _loops(scopes).pop(_loop_id(step), None)
    if isinstance(loop, dict):
        if loop.get("hadPrevious"):
            scopes["workflow"][loop["itemVar"]] = loop.get("previous")
        else:
            scopes["workflow"].pop(loop["itemVar"], None)
    lexical = scopes["lexical"]
    if lexical and isinstance(lexical[-1], dict) and lexical[-1].get("__loopId") == step.get("id"):
        lexical.pop()
