"""``event.wait``, ``time.wait``, ``human.task`` (§3.8): what to wait for, what a resolution writes.

Pure like the rest of the core: the caller passes ``now`` and an ``evaluate(expr, ctx)`` function
(which evaluates at that ``now``)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from algaflow.expressions import is_expr
from algaflow.kernel.instants import iso_millis
from algaflow.kernel.jsvalues import js_string

from .errors import StepFailure
from .scopes import assign_to_scope_path, interpreter_context
from .types import HumanTask, StepKind, WaitRequest, WaitType

Evaluate = Callable[[Any, dict[str, Any]], Any]
MAX_SAFE_INTEGER = 2**53 - 1
HUMAN_TASK_EVENT = "HUMAN_TASK_COMPLETED"


def request(
    kind: StepKind, step: dict[str, Any], ctx: dict[str, Any], now: datetime, evaluate: Evaluate
) -> WaitRequest:
    """The wait to open for a wait step."""
    config = _config(step)
    if kind is StepKind.EVENT_WAIT:
        return _event_request(config, ctx, now, evaluate)
    if kind is StepKind.TIME_WAIT:
        return _time_request(config, ctx, now, evaluate)
    if kind is StepKind.HUMAN_TASK:
        return _human_request(config, ctx, evaluate)
    raise ValueError(f"{kind} is no wait step")


def _config(step: dict[str, Any]) -> dict[str, Any]:
    return _object(step.get("config"))


def _object(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _event_request(
    config: dict[str, Any], ctx: dict[str, Any], now: datetime, evaluate: Evaluate
) -> WaitRequest:
    name = config.get("eventName")
    if not isinstance(name, str) or not name:
        raise StepFailure("ValidationError", "event.wait requires eventName")
    if not is_expr(config.get("correlationKey")):
        raise StepFailure("ValidationError", "event.wait requires correlationKey expression")
    raw = evaluate(config["correlationKey"], ctx)
    key = None if raw is None else js_string(raw)
    timeout_ms = config.get("timeoutMs")
    due = None
    if timeout_ms is not None:
        if not _positive_int(timeout_ms):
            raise StepFailure("ValidationError", "event.wait timeoutMs must be a positive integer")
        due = iso_millis(later(now, timeout_ms, "event.wait timeoutMs"))
    filters = config.get("filters") if isinstance(config.get("filters"), list) else []
    return WaitRequest(
        type=WaitType.EVENT,
        event_name=name,
        key=key,
        due_at=due,
        payload={"eventName": name, "correlationKey": key, "filters": filters, "timeoutAt": due},
    )


def _time_request(
    config: dict[str, Any], ctx: dict[str, Any], now: datetime, evaluate: Evaluate
) -> WaitRequest:
    mode = config.get("mode")
    duration = config.get("durationMs")
    if mode == "duration":
        if not _positive_int(duration):
            raise StepFailure(
                "ValidationError",
                "time.wait duration mode requires a positive safe-integer durationMs",
            )
        due = later(now, duration, "time.wait durationMs")
    elif mode == "until":
        if not is_expr(config.get("until")):
            raise StepFailure("ValidationError", "time.wait until mode requires until expression")
        parsed = parse_instant(js_string(evaluate(config["until"], ctx)))
        if parsed is None:
            raise StepFailure(
                "ValidationError", "time.wait until expression did not resolve to a valid date/time"
            )
        due = parsed
        duration = None
    else:
        raise StepFailure("ValidationError", "time.wait mode must be 'duration' or 'until'")
    due_iso = iso_millis(due)
    return WaitRequest(
        type=WaitType.TIME,
        event_name=None,
        key=None,
        due_at=due_iso,
        payload={"mode": mode, "durationMs": duration, "dueAt": due_iso},
    )


def _human_request(config: dict[str, Any], ctx: dict[str, Any], evaluate: Evaluate) -> WaitRequest:
    task_type = config.get("taskType")
    if not isinstance(task_type, str) or not task_type:
        raise StepFailure("ValidationError", "human.task requires taskType")
    if not is_expr(config.get("title")):
        raise StepFailure("ValidationError", "human.task requires title expression")
    title = evaluate(config["title"], ctx)
    description = evaluate(config["description"], ctx) if "description" in config else None
    context = _object(config.get("contextData"))
    data = {key: evaluate(value, ctx) for key, value in context.items()}
    task = HumanTask(
        task_type=task_type,
        title="" if title is None else js_string(title),
        description=None if description is None else js_string(description),
        context_data=data,
    )
    return WaitRequest(
        type=WaitType.HUMAN,
        event_name=HUMAN_TASK_EVENT,
        key=None,  # the task id, which the backend makes
        due_at=None,
        payload={"contextData": data, "taskType": task_type, "formSchema": None},
        task=task,
    )


def _positive_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_SAFE_INTEGER


def later(now: datetime, ms: int, what: str) -> datetime:
    """``now`` plus ``ms`` milliseconds; a ValidationError past year 9999 (JS would go further,
    to year 275760, but a wait that long cannot be told from one that never ends)."""
    try:
        return now + timedelta(milliseconds=ms)
    except OverflowError:
        raise StepFailure(
            "ValidationError", f"{what} ends after year 9999", code="DATE_OUT_OF_RANGE"
        ) from None


def parse_instant(text: str) -> datetime | None:
    """ISO-8601 only; a date alone is UTC midnight and a missing zone means UTC (§3.8.2).

    None for anything else, including instants that leave years 1-9999 once moved to UTC.
    """
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def apply_resolution(
    kind: StepKind,
    step: dict[str, Any],
    scopes: dict[str, Any],
    value: Any,
    evaluate: Evaluate,
) -> None:
    """Write what a resolved wait brings into vars, then the step's ``assign`` map in order."""
    variables = scopes["workflow"]
    value = value if isinstance(value, dict) else {}
    if kind is StepKind.TIME_WAIT:
        variables["timeWait"] = {
            "mode": value.get("mode"),
            "dueAt": value.get("dueAt"),
            "resumedAt": value.get("resumedAt"),
        }
    elif kind is StepKind.EVENT_WAIT:
        variables["event"] = value.get("payload")
        variables["eventName"] = value.get("eventName")
    else:
        variables["event"] = value.get("response")
        variables["eventName"] = value.get("eventName")
    config = _config(step)
    assign = _object(config.get("assign"))
    for path, expr in assign.items():
        assign_to_scope_path(scopes, path, evaluate(expr, interpreter_context(scopes)))


def timeout_error(payload: dict[str, Any]) -> StepFailure:
    name = payload.get("eventName")
    return StepFailure(
        "TimeoutError",
        f"event.wait timed out waiting for {name}",
        details={
            "eventName": name,
            "correlationKey": payload.get("correlationKey"),
            "timeoutAt": payload.get("timeoutAt"),
        },
    )


# --- event filters, as the interpreter evaluates them (§3.8.1) -----------------------------------

_MISSING = object()


def filters_pass(filters: Any, payload: Any) -> bool:
    return all(_filter_passes(f, payload) for f in filters or [] if isinstance(f, dict))


def _lookup(payload: Any, path: str) -> Any:
    path = path[2:] if path.startswith("$.") else path.lstrip(".") if path.startswith(".") else path
    node = payload
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def strict_equal(a: Any, b: Any) -> bool:
    """JavaScript ``===`` between JSON values (objects and arrays are never equal by value)."""
    if a is _MISSING or b is _MISSING:
        return a is b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, dict | list) or isinstance(b, dict | list) or type(a) is not type(b):
        return False
    return bool(a == b)


def _filter_passes(spec: dict[str, Any], payload: Any) -> bool:
    op = spec.get("op")
    actual = _lookup(payload, str(spec.get("path", "")))
    expected = spec.get("value", _MISSING)
    if op == "=":
        return strict_equal(actual, expected)
    if op == "!=":
        return not strict_equal(actual, expected)
    if op in ("in", "not_in"):
        found = isinstance(expected, list) and any(strict_equal(actual, v) for v in expected)
        return found if op == "in" else not found
    if op == "exists":
        return actual is not _MISSING
    if op == "not_exists":
        return actual is _MISSING
    if op in (">", ">=", "<", "<="):
        if not (_is_number(actual) and _is_number(expected)):
            return False
        comparisons = {
            ">": actual > expected,
            ">=": actual >= expected,
            "<": actual < expected,
            "<=": actual <= expected,
        }
        return bool(comparisons[op])
    if op in ("contains", "starts_with", "ends_with"):
        if not (isinstance(actual, str) and isinstance(expected, str)):
            return False
        if op == "contains":
            return expected in actual
        return actual.startswith(expected) if op == "starts_with" else actual.endswith(expected)
    return False
