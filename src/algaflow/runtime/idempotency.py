"""Engine-provided idempotency keys, byte-compatible with Alga's (§3.7 step 3)."""

from __future__ import annotations

import json
import math
from typing import Any

from algaflow.jsvalues import number_to_string


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
