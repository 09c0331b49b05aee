"""Scope state (§3.2) and the interpreter's assignment rule, normaliser (2) of §2.8.

Scopes are plain JSON: ``{payload, workflow, lexical, meta, error, system}`` where ``workflow`` is
what expressions call ``vars`` and ``lexical`` is the stack of loop scopes.
"""

from __future__ import annotations

import copy
from typing import Any

from algaflow.expressions import build_interpreter_context, build_node_context

_ROUTED = ("payload.", "vars.", "meta.", "local.")


def initial_scopes(
    payload: Any, *, system: dict[str, Any], meta: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "payload": payload if isinstance(payload, dict) else {},
        "workflow": {},
        "lexical": [],
        "meta": dict(meta or {}),
        "error": None,
        "system": system,
    }


def set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    """Write ``value`` at a dotted path, creating objects (a non-object in the way is replaced)."""
    parts = dotted.split(".")
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def assign_to_scope_path(scopes: dict[str, Any], path: str, value: Any) -> None:
    """Alga's ``assignToScopePath``, in place.

    Kept from Alga (quirk Q2, authored workflows depend on it): an unscoped path and ``error.x`` go
    to vars, ``meta.x`` goes to **vars**, a pointer ``/a/b`` means ``a.b`` routed by its first
    segment (so ``/a/b`` is ``vars.a.b``), ``local.x`` goes to the top loop scope (else vars).
    Fixed (quirk Q1): ``meta`` and ``error`` survive the write.
    """
    path = (path or "").strip()
    if path.startswith("/"):
        path = ".".join(_unescape(p) for p in path[1:].split("/"))
    if not path:
        path = "vars"
    elif not path.startswith(_ROUTED):
        path = "vars." + path
    head, _, rest = path.partition(".")
    value = copy.deepcopy(value)
    if head == "payload":
        scopes["payload"] = _write(scopes.get("payload"), rest, value)
    elif head == "local" and scopes["lexical"]:
        scopes["lexical"][-1] = _write(scopes["lexical"][-1], rest, value)
    else:  # vars, meta (Q2), local without a loop, anything else
        scopes["workflow"] = _write(scopes.get("workflow"), rest, value)


def _write(container: Any, rest: str, value: Any) -> Any:
    if not rest:
        return value if isinstance(value, dict) else {}
    container = container if isinstance(container, dict) else {}
    set_dotted(container, rest, value)
    return container


def _unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


def interpreter_context(scopes: dict[str, Any]) -> dict[str, Any]:
    """Context (A) of §2.6: vars and loop locals spread at the root, then the named scopes."""
    return build_interpreter_context(
        payload=scopes["payload"],
        vars=scopes["workflow"],
        lexical=scopes["lexical"],
        meta=scopes["meta"],
        error=scopes["error"],
        system=scopes["system"],
    )


def node_context(scopes: dict[str, Any]) -> dict[str, Any]:
    """Context (B) of §2.6: ``{payload, vars, meta, error}`` only."""
    return build_node_context(
        payload=scopes["payload"],
        vars=scopes["workflow"],
        meta=scopes["meta"],
        error=scopes["error"],
    )


ENVELOPE_ERROR_KEYS = ("name", "message", "stack", "nodePath", "at", "data")


def envelope(scopes: dict[str, Any]) -> dict[str, Any]:
    """The node-handler view of the scopes (§1.7); the error loses category/code/details."""
    system = scopes["system"]
    error = scopes["error"]
    env: dict[str, Any] = {
        "v": 1,
        "run": {
            "id": system.get("runId"),
            "workflowId": system.get("workflowId"),
            "workflowVersion": system.get("workflowVersion"),
            "startedAt": system.get("startedAt"),
        },
        "payload": copy.deepcopy(scopes["payload"]),
        "meta": copy.deepcopy(scopes["meta"]),
        "vars": copy.deepcopy(scopes["workflow"]),
    }
    if isinstance(error, dict):
        env["error"] = {k: copy.deepcopy(error[k]) for k in ENVELOPE_ERROR_KEYS if k in error}
    return env


def apply_envelope(scopes: dict[str, Any], result: dict[str, Any]) -> None:
    """A node's returned envelope replaces payload/vars/meta (when objects) and the error."""
    for key, scope in (("payload", "payload"), ("vars", "workflow"), ("meta", "meta")):
        if isinstance(result.get(key), dict):
            scopes[scope] = result[key]
    error = result.get("error")
    scopes["error"] = error if isinstance(error, dict) else None
