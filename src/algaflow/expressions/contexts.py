"""The two input documents expressions are evaluated against (reference §2.6).

(A) is the interpreter's context: vars and the top loop scope are also spread at the root, so bare
names resolve to them. (B) is what node handlers such as ``transform.assign`` see: only
``{payload, vars, meta, error}``, with the raw ``meta``. Key order follows JavaScript object spread
(a later key overrides the value but keeps the position of its first occurrence), because results
such as ``$`` are serialised in that order.
"""

from __future__ import annotations

from typing import Any


def build_interpreter_context(
    *,
    payload: Any,
    vars: dict[str, Any],
    lexical: list[dict[str, Any]],
    meta: dict[str, Any],
    error: Any,
    system: dict[str, Any],
) -> dict[str, Any]:
    """Context (A): ``{...vars, ...top lexical, payload, vars, local, system, meta, error}``."""
    top = lexical[-1] if lexical else None
    context: dict[str, Any] = {**vars}
    if top:
        context.update(top)
    context["payload"] = payload
    context["vars"] = vars
    context["local"] = top if top is not None else {}
    context["system"] = system
    context["meta"] = {**meta, **system}
    context["error"] = error
    return context


def build_node_context(*, payload: Any, vars: Any, meta: Any, error: Any) -> dict[str, Any]:
    """Context (B): exactly ``{payload, vars, meta, error}``."""
    return {"payload": payload, "vars": vars, "meta": meta, "error": error}
