"""Action invocation with idempotency (§3.7), handler timeouts and redacted stored input.

Like Alga, an invocation row is written ``STARTED`` before the handler runs. Here it is also
committed first (in durable mode), so no transaction is held open across a handler and every other
caller of the same key sees it. An existing row for the key decides what happens:

* ``SUCCEEDED``: its output is returned and the handler does not run;
* ``STARTED`` by another run that is still RUNNING or WAITING: the step fails with a retryable
  ``TransientError`` ``IDEMPOTENCY_KEY_IN_USE`` (two runs never run one key at the same time);
* ``FAILED``, or ``STARTED`` by this run or by a run that has ended (its process died between the
  handler and the commit): the row is taken over (``attempt`` + 1) and the handler runs again.
  Delivery is therefore at-least-once unless the invocation is recorded ``SUCCEEDED``.

Other differences from Alga, all deliberate: a retry after a FAILED invocation runs the handler
again (quirk Q5); resolved secrets are ``[REDACTED]`` in the stored input (Q6); a handler that does
not return within ``timeout_s`` fails the step with ``TimeoutError`` (its thread cannot be killed in
Python: it is left running as a daemon thread and its result is ignored); an output the databases
cannot store fails the step with ``UNSTORABLE_VALUE``.
"""

from __future__ import annotations

import contextvars
import copy
import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from algaflow.expressions import evaluation_time
from algaflow.expressions.errors import SECRET_RESOLUTION_FAILED
from algaflow.kernel.clock import iso_millis, new_id, utcnow
from algaflow.registry.actions import ActionContext
from algaflow.runtime.core.errors import (
    StepFailure,
    normalize_action_error,
    normalize_error,
    storable_error,
    stored_error,
    unstorable_failure,
)
from algaflow.store import invocations, runs
from algaflow.store.connection import Connection
from algaflow.store.run_rows import ACTIVE_STATUSES, InvocationRow

from .idempotency import action_key, engine_key, tenant_scoped
from .secrets import Redactor

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
    #: ``(pointer, name)`` of each authored ``$secret`` in ``args``, resolved only here.
    secrets: tuple[tuple[str, str], ...] = ()
    step_config: Any = None
    expression_context: dict[str, Any] | None = None


def _handle(action: Any, parsed: Any, context: ActionContext, now: datetime) -> Any:
    """The handler on a copy of its input; expressions it evaluates run at the step's time."""
    with evaluation_time(now):
        return action.handler(copy.deepcopy(parsed), context)


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

    # The handler sees the caller's context (its clock and id sources among it).
    context = contextvars.copy_context()
    thread = threading.Thread(
        target=context.run, args=(target,), daemon=True, name="algaflow-action"
    )
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
    commit: Callable[[], None] = lambda: None,
    secret_resolver: Any = None,
    defer: Callable[[runs.Write], None] | None = None,
) -> Any:
    """Run one action (or return its cached output); raises a runtime-error-shaped failure.

    ``commit`` is called once the STARTED row is written, before the handler runs. The final
    status is written but not committed: it goes with the caller's next commit (the step's).
    ``defer`` takes that final UPDATE instead of it being executed here, so the caller can send
    it together with the step's own records.
    The call's secrets are resolved here, and whatever leaves (the output, a failure, the stored
    row) is scrubbed of their values.
    """
    redactor = Redactor()
    try:
        args = _with_secrets(call, secret_resolver, redactor)
        return _invoke(conn, registry, call, args, redactor, now, timeout_s, commit, defer)
    except Exception as exc:
        if not redactor:
            raise
        error = normalize_error(exc, call.step_path, iso_millis(now))
        raise StepFailure(
            redactor.text(error["category"]),
            redactor.text(error["message"]),
            code=redactor.value(error.get("code")),
            details=redactor.value(error.get("details")),
        ) from None  # the cause may hold a secret


def _with_secrets(call: Invocation, resolver: Any, redactor: Redactor) -> Any:
    """``call.args`` with each authored ``$secret`` replaced by its value (noted in
    ``redactor``). Only the pointers the step's mapping declared are resolved: a
    ``{"$secret": ...}`` that came from a payload or an expression stays as it is."""
    if not call.secrets:
        return call.args
    args = copy.deepcopy(call.args)
    for pointer, name in call.secrets:
        try:
            if resolver is None:
                raise LookupError("no secret resolver is configured")
            value = resolver.resolve(name, call.run_id)
            if not isinstance(value, str):
                raise TypeError("the resolver did not return a string")
        except Exception as exc:  # any resolver failure is the action's failure, as in Alga
            raise StepFailure(
                "ActionError",
                f'Failed to resolve secret "{name}": {exc}',
                code=SECRET_RESOLUTION_FAILED,
                details={"path": pointer},
            ) from None
        redactor.add(value)
        _set_pointer(args, pointer, value)
    return args


def _invoke(
    conn: Connection,
    registry: Any,
    call: Invocation,
    args: Any,
    redactor: Redactor,
    now: datetime,
    timeout_s: float | None,
    commit: Callable[[], None],
    defer: Callable[[runs.Write], None] | None,
) -> Any:
    action = registry.actions.get(call.action_id, call.version)
    if action is None:
        raise StepFailure("ActionError", f"Unknown action {call.action_id}@{call.version}")
    parsed = action.parse_input(args)
    pointers = tuple(pointer for pointer, _ in call.secrets)
    stored_input = redactor.value(redact_pointers(parsed, pointers))
    context = ActionContext(
        run_id=call.run_id,
        step_path=call.step_path,
        step_config=call.step_config,
        expression_context=call.expression_context,
        tenant_id=call.tenant_id,
        idempotency_key=None,
        attempt=call.attempt,
        now_iso=iso_millis(now),
    )
    key = redactor.text(
        tenant_scoped(
            call.explicit_key
            or action_key(action, copy.deepcopy(stored_input), context)
            or engine_key(call.run_id, call.step_path, call.action_id, call.version, stored_input),
            call.tenant_id,
        )
    )
    claim = _claim(conn, call, key, stored_input, now)
    if isinstance(claim, _Cached):
        return action.parse_output(claim.output or {})
    commit()
    context = dataclasses.replace(context, idempotency_key=key)
    output: Any = None
    error: dict[str, Any] | None = None
    label = f"{call.action_id}@{call.version}"
    try:
        raw = call_with_timeout(lambda: _handle(action, parsed, context, now), timeout_s)
        output = redactor.value(action.parse_output(raw))
        failure = unstorable_failure(output, f"The output of action {label}")
        if failure is not None:
            raise failure
    except TimeoutError as exc:
        error = {"category": "TimeoutError", "code": "ACTION_TIMEOUT",
                 "message": f"Action {label} {exc}"}  # fmt: skip
    except Exception as exc:  # a handler's failure is the step's failure, never the process's
        error = normalize_error(normalize_action_error(exc), call.step_path, iso_millis(now))
        error = storable_error(redactor.value(error))
    finish = invocations.finish_update(
        claim.invocation_id, attempt=claim.attempt, output=output,
        error=stored_error(error) if error else None,
        error_message=error["message"] if error else None, at=utcnow(),
    )  # fmt: skip
    if defer is None:
        conn.execute(finish)
    else:
        defer(finish)
    if error:
        raise StepFailure(
            error["category"],
            error["message"],
            code=error.get("code"),
            details=error.get("details"),
        )
    return output


@dataclass(frozen=True)
class _Claimed:
    invocation_id: str
    attempt: int


@dataclass(frozen=True)
class _Cached:
    output: Any


_CLAIM_TRIES = 3


def _claim(
    conn: Connection, call: Invocation, key: str, stored_input: Any, now: datetime
) -> _Claimed | _Cached:
    """Insert the STARTED row, or take over the existing one, or return its cached output."""
    for _ in range(_CLAIM_TRIES):
        invocation_id = new_id()
        if invocations.insert_started(
            conn, invocation_id=invocation_id, tenant=call.tenant_id, run_id=call.run_id,
            step_path=call.step_path, action_id=call.action_id, action_version=call.version,
            idempotency_key=key, attempt=call.attempt, input_json=stored_input, now=now,
        ):  # fmt: skip
            return _Claimed(invocation_id, call.attempt)
        row = invocations.find_by_key(conn, call.tenant_id, call.action_id, call.version, key)
        if row is None:  # deleted since (its run was): insert again
            continue
        if row.status == "SUCCEEDED":
            return _Cached(row.output_json)
        if row.status == "STARTED" and row.run_id != call.run_id and _active(conn, row):
            raise _key_in_use(row.run_id)
        if invocations.take_over(
            conn, row, run_id=call.run_id, step_path=call.step_path, input_json=stored_input,
            now=now,
        ):  # fmt: skip
            return _Claimed(row.invocation_id, row.attempt + 1)
    raise _key_in_use(None)


def _active(conn: Connection, row: InvocationRow) -> bool:
    return runs.run_status(conn, row.run_id) in ACTIVE_STATUSES


def _key_in_use(run_id: str | None) -> StepFailure:
    return StepFailure(
        "TransientError",
        "The idempotency key is in use by another run's invocation that has not finished",
        code="IDEMPOTENCY_KEY_IN_USE",
        details={"runId": run_id},
    )


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


def _set_pointer(value: Any, pointer: str, new: Any) -> None:
    """Set the target of a JSON pointer that exists in ``value`` (the mapping made it)."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    node = value
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(parts[-1])] = new
    else:
        node[parts[-1]] = new
