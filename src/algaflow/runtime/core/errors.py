"""Runtime errors as Alga normalises them: ``{category, message, nodePath, at, code?, details?}``.

Structured failures (an :class:`ActionRuntimeError`, a mapping error, anything with ``category``
and ``message``) keep their category, code and details all the way to ``retryOn`` and
``captureErrorAs`` (quirk Q4 fixed). Anything else is an ``ActionError`` (or ``Cancellation`` when
its text says canceled), like Alga's ``normalizeRuntimeError``.
"""

from __future__ import annotations

import json
import re
from itertools import islice
from typing import Any

from algaflow.kernel.errors import AlgaflowError
from algaflow.kernel.jsonb import unstorable_paths

_CANCELED = re.compile(r"cancel(l)?ed", re.IGNORECASE)
_SENSITIVE = re.compile(r"secret|token|password|api[_-]?key|authorization", re.IGNORECASE)
MAX_ERROR_JSON = 32 * 1024
_UNPRINTABLE = re.compile("[\x00\ud800-\udfff]")
_MAX_PATHS = 10


class StepFailure(Exception):
    """Raised inside the runtime with an already-shaped error (category, message, code, details)."""

    def __init__(
        self, category: str, message: str, *, code: str | None = None, details: Any = None
    ) -> None:
        super().__init__(message)
        self.category = category
        self.message = message
        self.code = code
        self.details = details


def normalize_error(exc: BaseException | dict[str, Any], node_path: str, at: str) -> dict[str, Any]:
    """The runtime error shape for anything a step raised."""
    category = _attr(exc, "category")
    message = _attr(exc, "message")
    if isinstance(category, str) and isinstance(message, str):
        error: dict[str, Any] = {"category": category, "message": message}
        code = _attr(exc, "code")
        if isinstance(code, str):
            error["code"] = code
        details = _attr(exc, "details")
        if details is not None:
            error["details"] = details
    else:
        text = str(exc) if not isinstance(exc, dict) else json.dumps(exc, default=str)
        name = type(exc).__name__
        canceled = _CANCELED.search(name) or _CANCELED.search(text)
        error = {"category": "Cancellation" if canceled else "ActionError", "message": text}
        if isinstance(exc, AlgaflowError):
            error["code"] = exc.code
            if exc.details is not None:
                error["details"] = exc.details
    node = _attr(exc, "nodePath")
    error["nodePath"] = node if isinstance(node, str) else node_path
    error["at"] = at
    return error


def normalize_action_error(exc: BaseException) -> BaseException | dict[str, Any]:
    """``normalizeActionRuntimeError``: unstructured handler errors become INTERNAL_ERROR."""
    if isinstance(_attr(exc, "category"), str) and isinstance(_attr(exc, "message"), str):
        return exc
    if isinstance(exc, AlgaflowError):
        return {
            "category": "ActionError",
            "code": exc.code,
            "message": exc.message,
            "details": exc.details,
        }
    return {
        "category": "ActionError",
        "code": "INTERNAL_ERROR",
        "message": str(exc) or type(exc).__name__,
        "details": {"name": type(exc).__name__},
    }


def _attr(exc: Any, name: str) -> Any:
    return exc.get(name) if isinstance(exc, dict) else getattr(exc, name, None)


def redact(value: Any) -> Any:
    """Keys that look like credentials become ``[REDACTED]``; ``stack`` fields are dropped."""
    if isinstance(value, dict):
        return {
            k: "[REDACTED]" if _SENSITIVE.search(k) else redact(v)
            for k, v in value.items()
            if k != "stack"
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def stored_error(error: dict[str, Any]) -> dict[str, Any]:
    """What an invocation row keeps: redacted, without stacks, at most 32 KiB (§3.7 step 7)."""
    stored: dict[str, Any] = redact(error)
    size = len(json.dumps(stored, default=str))
    if size > MAX_ERROR_JSON and "details" in stored:
        stored["details"] = {"truncated": True, "size": size, "max": MAX_ERROR_JSON}
        size = len(json.dumps(stored, default=str))
    if size > MAX_ERROR_JSON:
        keep = max(0, len(stored["message"]) - (size - MAX_ERROR_JSON) - 20)
        stored["message"] = stored["message"][:keep] + "...[truncated]"
    return stored


# --- values the databases cannot store -----------------------------------------------------------


def printable(text: str) -> str:
    """``text`` with NUL and lone surrogates written as ``\\uXXXX``, so any database stores it."""
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def unstorable_failure(value: Any, what: str) -> StepFailure | None:
    """``UNSTORABLE_VALUE`` when ``value`` holds a NUL, a lone surrogate or a non-finite number.

    PostgreSQL refuses those (SQLite would keep what no JSON reader parses), so a step that
    produced one fails, before anything is written, the same way on both databases.
    """
    paths = [printable(p) for p, _ in islice(unstorable_paths(value), _MAX_PATHS)]
    if not paths:
        return None
    return StepFailure(
        "ActionError",
        f"{what} holds a value the database cannot store (NUL, a lone surrogate or a "
        f"non-finite number) at {paths[0] or 'its top level'}",
        code="UNSTORABLE_VALUE",
        details={"paths": paths},
    )


def ensure_storable(value: Any, what: str) -> Any:
    """``value`` itself, or the ``UNSTORABLE_VALUE`` failure raised."""
    failure = unstorable_failure(value, what)
    if failure is not None:
        raise failure
    return value


def storable_error(error: dict[str, Any]) -> dict[str, Any]:
    """A runtime error the databases can store: an unstorable one keeps its category and its
    (escaped) message, and becomes ``UNSTORABLE_VALUE``."""
    failure = unstorable_failure(error, "The error")
    if failure is None:
        return error
    category = error.get("category")
    message = error.get("message")
    return {
        "category": printable(category) if isinstance(category, str) else "ActionError",
        "code": failure.code,
        "message": printable(message if isinstance(message, str) else failure.message),
        "details": failure.details,
        "nodePath": printable(str(error.get("nodePath"))),
        "at": error.get("at"),
    }


def internal_error(exc: BaseException, node_path: str, at: str) -> dict[str, Any]:
    """What a run that failed on an unexpected exception (a bug, a database refusal) records."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return {
        "category": "ActionError",
        "code": "INTERNAL_ERROR",
        "message": printable(f"Internal error: {type(exc).__name__}: {text}")[:2000],
        "details": {"name": type(exc).__name__},
        "nodePath": node_path,
        "at": at,
    }
