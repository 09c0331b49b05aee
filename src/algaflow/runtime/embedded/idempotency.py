"""Idempotency keys: engine-provided ones byte-compatible with Alga's (§3.7 step 3), and the keys
an action derives from its input."""

from __future__ import annotations

import json
import math
from typing import Any

from algaflow.kernel.jsvalues import js_string, number_to_string
from algaflow.registry.actions import ActionContext, ActionDef
from algaflow.runtime.core.errors import StepFailure


def js_stringify(value: Any) -> str:
    """``JSON.stringify`` of a JSON value: insertion order, JS numbers, no ASCII escaping."""
    if value is None or value is True or value is False:
        return json.dumps(value)
    if isinstance(value, int | float):
        return number_to_string(value) if math.isfinite(float(value)) else "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(js_stringify(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{js_stringify(v)}"
                              for k, v in value.items()) + "}"  # fmt: skip
    return json.dumps(str(value), ensure_ascii=False)


def js_hash(text: str) -> str:
    """The 32-bit rolling hash ``h = h*31 + c`` over UTF-16 units, as ``abs(h)`` in base 36."""
    h = 0
    data = text.encode("utf-16-le")
    for i in range(0, len(data), 2):
        h = (h * 31 + (data[i] | data[i + 1] << 8)) & 0xFFFFFFFF
    if h >= 0x80000000:
        h -= 0x100000000
    return _base36(abs(h))


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def engine_key(run_id: str, step_path: str, action_id: str, version: int, parsed: Any) -> str:
    """``<runId>:<stepPath>:<actionId>:<version>:<hash>`` over the parsed input."""
    text = js_stringify(
        {
            "runId": run_id,
            "stepPath": step_path,
            "actionId": action_id,
            "version": version,
            "input": parsed,
        }
    )
    return f"{run_id}:{step_path}:{action_id}:{version}:{js_hash(text)}"


def tenant_scoped(key: str, tenant_id: str | None) -> str:
    """Keys are prefixed with ``<tenant>:`` unless they already are."""
    if tenant_id and not key.startswith(f"{tenant_id}:"):
        return f"{tenant_id}:{key}"
    return key


def action_key(action: ActionDef, parsed: Any, context: ActionContext) -> str | None:
    """The key ``action`` derives from its (parsed, secret-free) input, or None to use the
    default. Unlike Alga (which never calls ``key()``), the declared key is used, so two runs
    making the same call share one invocation and one side effect.

    A string or number is the key; None, ``""`` or a missing field mean "no key". Anything else,
    or a key function that raises, fails the step with ``IDEMPOTENCY_KEY_INVALID``.
    """
    if action.idempotency_key is not None:
        try:
            raw = action.idempotency_key(parsed, context)
        except Exception as exc:
            raise _invalid(action, f"its key function raised {type(exc).__name__}: {exc}") from None
    elif action.idempotency_key_field is not None:
        raw = _field(parsed, action.idempotency_key_field)
    else:
        return None
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise _invalid(action, f"the key is a {type(raw).__name__}, not a string")
    return raw if isinstance(raw, str) else js_string(raw)


def _field(value: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _invalid(action: ActionDef, why: str) -> StepFailure:
    return StepFailure(
        "ActionError",
        f"Action {action.key} could not derive its idempotency key: {why}",
        code="IDEMPOTENCY_KEY_INVALID",
    )
