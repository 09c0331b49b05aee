"""The five workflow functions (reference §2.4), with JavaScript's semantics.

These are plain Python callables; ``engine.py`` registers them on every compiled expression, so
they replace any JSONata built-in of the same name (this matters for ``$append``).

Engine facts they rely on: JSONata ``undefined`` arrives as ``None`` (so it cannot be told apart
from ``null``, which every function here treats alike anyway), and a host function that returns
``None`` produces ``undefined``. ``coalesce`` must be able to return JSON ``null``, so it returns
:data:`JSON_NULL`, which the engine turns into ``null`` (a test pins this).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from algaflow.expressions.timing import current_time
from algaflow.kernel import jsvalues
from algaflow.kernel.instants import iso_millis

ALLOWED_FUNCTIONS: frozenset[str] = frozenset({"nowIso", "coalesce", "len", "toString", "append"})

# A host-function result that jlens converts to JSON null (``None`` would mean undefined).
JSON_NULL = math.nan


def now_iso(*_: Any) -> str:
    """``new Date().toISOString()`` of the evaluation's time (an argument, so replays agree)."""
    return iso_millis(current_time())


def coalesce(*values: Any) -> Any:
    """The first argument that is neither null nor undefined, else ``null``."""
    for value in values:
        if value is not None:
            return value
    return JSON_NULL


def length(value: Any = None, *_: Any) -> int:
    """String length in UTF-16 code units, array length, else 0 (objects included)."""
    if isinstance(value, str):
        return jsvalues.utf16_len(value)
    if isinstance(value, list | tuple):
        return len(value)
    return 0


def to_string(value: Any = None, *_: Any) -> str:
    """``''`` for null/undefined, else JavaScript ``String(v)``."""
    if value is None:
        return ""
    return jsvalues.js_string(value)


def append(base: Any = None, value: Any = None, *_: Any) -> list[Any]:
    """A new array: ``base`` (``[]`` for null, ``[base]`` for a scalar), then ``value``'s items."""
    if base is None:
        result: list[Any] = []
    elif isinstance(base, list | tuple):
        result = list(base)
    else:
        result = [base]
    if isinstance(value, list | tuple):
        result.extend(value)
    else:
        result.append(value)
    return result


WORKFLOW_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "nowIso": now_iso,
    "coalesce": coalesce,
    "len": length,
    "toString": to_string,
    "append": append,
}
