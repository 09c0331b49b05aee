"""Action invocation with idempotency (§3.7), handler timeouts and redacted stored input.

Differences from Alga, all deliberate: a retry after a FAILED (or interrupted) invocation updates
that row and runs the handler again (quirk Q5); resolved secrets are replaced by ``[REDACTED]`` in
the stored input (Q6); a handler that does not return within ``timeout_s`` fails the step with
``TimeoutError``. A timed-out handler's thread cannot be killed in Python: it is left running as a
daemon thread and its result is ignored.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algaflow.clock import iso_millis, new_id
from algaflow.registry.actions import ActionContext
from algaflow.store.run_tables import workflow_action_invocations as inv_t

from .errors import StepFailure, normalize_action_error, normalize_error, stored_error
from .idempotency import engine_key, tenant_scoped

DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Invocation:
    tenant_id: str
    run_id: str
    step_path: str
    action_id: str
    version: int
    args: Any
    attempt: int = 1
    explicit_key: str | None = None
    redactions: tuple[str, ...] = ()
    step_config: Any = None
    expression_context: dict[str, Any] | None = None


def call_with_timeout(fn: Callable[[], Any], timeout_s: float | None) -> Any:
    """Run ``fn`` on a daemon thread; ``TimeoutError`` when it takes longer than ``timeout_s``."""
    if timeout_s is None:
        return fn()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised on the calling thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name="algaflow-action")
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise TimeoutError(f"did not finish within {timeout_s:g}s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def invoke(
    conn: Connection,
    registry: Any,
    call: Invocation,
    *,
    now: datetime,
    timeout_s: float | None = DEFAULT_TIMEOUT_S,
) -> Any:
    """Run one action (or return its cached output); raises a runtime-error-shaped failure."""
    action = registry.actions.get(call.action_id, call.version)
    if action is None:
        raise StepFailure("ActionError", f"Unknown action {call.action_id}@{call.version}")
    parsed = action.parse_input(call.args)
    key = tenant_scoped(
        call.explicit_key
        or engine_key(call.run_id, call.step_path, call.action_id, call.version, parsed),
        call.tenant_id,
    )
    existing = (
        conn.execute(
            sa.select(
                inv_t.c.invocation_id, inv_t.c.status, inv_t.c.attempt, inv_t.c.output_json
            ).where(
                inv_t.c.tenant == call.tenant_id,
                inv_t.c.action_id == call.action_id,
                inv_t.c.action_version == call.version,
                inv_t.c.idempotency_key == key,
            )
        )
        .mappings()
        .first()
    )
    if existing is not None and existing["status"] == "SUCCEEDED":
        return action.parse_output(existing["output_json"] or {})
    context = ActionContext(
        run_id=call.run_id,
        step_path=call.step_path,
        step_config=call.step_config,
        expression_context=call.expression_context,
        tenant_id=call.tenant_id,
        idempotency_key=key,
        attempt=call.attempt,
        now_iso=iso_millis(now),
    )
    output: Any = None
    error: dict[str, Any] | None = None
    try:
        raw = call_with_timeout(lambda: action.handler(copy.deepcopy(parsed), context), timeout_s)
        output = action.parse_output(raw)
    except TimeoutError as exc:
        error = {
            "category": "TimeoutError",
            "code": "ACTION_TIMEOUT",
            "message": f"Action {call.action_id}@{call.version} {exc}",
        }
    except Exception as exc:  # a handler's failure is the step's failure, never the process's
        error = normalize_error(normalize_action_error(exc), call.step_path, iso_millis(now))
    values = {
        "status": "FAILED" if error else "SUCCEEDED",
        "input_json": redact_pointers(parsed, call.redactions),
        "output_json": None if error else output,
        "error_json": stored_error(error) if error else None,
        "error_message": error["message"] if error else None,
        "started_at": now,
        "completed_at": now,
    }
    if existing is None:
        conn.execute(
            inv_t.insert().values(
                invocation_id=new_id(),
                tenant=call.tenant_id,
                run_id=call.run_id,
                step_path=call.step_path,
                action_id=call.action_id,
                action_version=call.version,
                idempotency_key=key,
                attempt=call.attempt,
                created_at=now,
                **values,
            )
        )
    else:
        conn.execute(
            inv_t.update()
            .where(inv_t.c.invocation_id == existing["invocation_id"])
            .values(attempt=existing["attempt"] + 1, **values)
        )
    if error:
        raise StepFailure(
            error["category"],
            error["message"],
            code=error.get("code"),
            details=error.get("details"),
        )
    return output


def redact_pointers(value: Any, pointers: tuple[str, ...] | list[str]) -> Any:
    """A copy of ``value`` with each JSON pointer's target replaced by ``[REDACTED]``."""
    if not pointers:
        return value
    result = copy.deepcopy(value)
    for pointer in pointers:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        node = result
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node.get(part) if isinstance(
                node, dict) else None  # fmt: skip
        if isinstance(node, dict) and parts and parts[-1] in node:
            node[parts[-1]] = "[REDACTED]"
        elif (
            isinstance(node, list) and parts and parts[-1].isdigit() and int(parts[-1]) < len(node)
        ):
            node[int(parts[-1])] = "[REDACTED]"
    return result
