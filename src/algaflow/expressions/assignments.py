"""Node-handler assignments (reference §2.8, normaliser (1)): ``transform.assign`` and ``saveAs``.

A path is ``payload.``/``vars.``/``meta.``/``error.`` + dotted keys, or a JSON pointer relative to
the payload. Every path is checked before anything is written, so the update is all-or-nothing, and
writes go to a deep copy. Dots make intermediate objects (anything else in the way, arrays included,
is replaced); there is no index syntax, so ``a[0]`` is a plain key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from algaflow.expressions.contexts import build_node_context
from algaflow.expressions.errors import INVALID_ASSIGN_PATH
from algaflow.expressions.mapping import resolve_expressions
from algaflow.expressions.timing import current_time, evaluation_time
from algaflow.kernel.errors import AlgaflowError
from algaflow.kernel.instants import iso_millis

SCOPES = ("payload", "vars", "meta", "error")
FORBIDDEN_SEGMENTS = frozenset({"__proto__", "prototype", "constructor"})

Evaluator = Callable[[Any, dict[str, Any]], Any]


def _split(path: str) -> tuple[str, list[str]] | None:
    """``(scope, segments)`` of a scoped path, or ``None`` when it is not scoped."""
    if path.startswith("/"):
        segments = path[1:].split("/")
        return "payload", [s.replace("~1", "/").replace("~0", "~") for s in segments]
    for scope in SCOPES:
        if path.startswith(scope + "."):
            return scope, path[len(scope) + 1 :].split(".")
    return None


def _path_problem(path: Any) -> str | None:
    parsed = _split(path) if isinstance(path, str) else None
    if parsed is None:
        return f"Assignment path must be scoped (payload/vars/meta/error or JSON pointer): {path}"
    if any(segment in FORBIDDEN_SEGMENTS for segment in parsed[1]):
        return f"Assignment path contains a forbidden segment: {path}"
    return None


def is_valid_node_assign_path(path: str) -> bool:
    """Whether ``transform.assign`` (and publish validation) accepts ``path``."""
    return _path_problem(path) is None


def clone_json(value: Any) -> Any:
    """A deep copy of a JSON value (dicts and lists rebuilt, scalars shared)."""
    if isinstance(value, dict):
        return {key: clone_json(child) for key, child in value.items()}
    if isinstance(value, list | tuple):
        return [clone_json(child) for child in value]
    return value


def _write(envelope: dict[str, Any], scope: str, segments: list[str], value: Any) -> None:
    target = envelope.get(scope)
    if not isinstance(target, dict):
        target = {"message": "", "at": iso_millis(current_time())} if scope == "error" else {}
        envelope[scope] = target
    for segment in segments[:-1]:
        child = target.get(segment)
        if not isinstance(child, dict):
            child = {}
            target[segment] = child
        target = child
    target[segments[-1]] = value


def apply_node_assignments(
    envelope: dict[str, Any],
    assignments: dict[str, Any],
    evaluate: Evaluator | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Apply ``assignments`` in order to a copy of ``envelope`` and return the copy.

    ``envelope`` is ``{"payload", "vars", "meta", "error"}``. Each value goes through ``evaluate``
    (default: resolve ``$expr`` anywhere in it) with context (B) built from the envelope as written
    so far, so every entry sees the writes before it. ``now`` is the time ``$nowIso()`` and a
    new ``error`` object's ``at`` take (None: the enclosing evaluation time). Raises
    ``AlgaflowError`` with code ``INVALID_ASSIGN_PATH`` (listing every bad path) before writing
    anything.
    """
    problems = [(path, p) for path in assignments if (p := _path_problem(path)) is not None]
    if problems:
        raise AlgaflowError(
            INVALID_ASSIGN_PATH,
            problems[0][1],
            details={"paths": [path for path, _ in problems]},
        )
    evaluate = evaluate or resolve_expressions
    result: dict[str, Any] = clone_json(envelope)
    with evaluation_time(now):
        for path, raw in assignments.items():
            _assign(result, path, raw, evaluate)
    return result


def _assign(result: dict[str, Any], path: str, raw: Any, evaluate: Evaluator) -> None:
    """One entry: evaluate with context (B) of the envelope as written so far, then write."""
    context = build_node_context(
        payload=result.get("payload"),
        vars=result.get("vars"),
        meta=result.get("meta"),
        error=result.get("error"),
    )
    scope, segments = _split(path)  # type: ignore[misc]  # checked by the caller
    _write(result, scope, segments, clone_json(evaluate(raw, context)))
