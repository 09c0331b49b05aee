"""The result post-checks of reference §2.5 that do not need the engine.

Alga measures a result as the length of ``JSON.stringify(result)`` in UTF-16 code units.
Python's ``json.dumps`` writes some numbers differently (``1e+20`` against JS
``100000000000000000000``, ``5.0`` against ``5``), so the exact JS length is computed whenever
the result is anywhere near the limit.
"""

from __future__ import annotations

import json
from typing import Any

from algaflow.expressions.errors import (
    EXPRESSION_EVALUATION_FAILED,
    EXPRESSION_RESULT_TOO_LARGE,
    MSG_NOT_SERIALIZABLE,
    MSG_TOO_LARGE,
    ExpressionError,
)
from algaflow.kernel import jsvalues

MAX_OUTPUT_CHARS = 262_144
# A JS number is at most 4.2x longer than Python's text for it (``1e+20``: 5 vs 21 characters), and
# nothing else in the JS text is longer than in Python's, counted in UTF-16 units per code point.
_SAFE_FACTOR = 5
_SAFE_INT = 2**53


def js_json_length(value: Any) -> int:
    """UTF-16 length of JavaScript's ``JSON.stringify(value)`` for a JSON value."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if item is None or item is True:
            total += 4
        elif item is False:
            total += 5
        elif isinstance(item, int) and -_SAFE_INT < item < _SAFE_INT:
            total += len(str(item))
        elif isinstance(item, int | float):
            total += len(jsvalues.number_to_string(item))
        elif isinstance(item, str):
            total += jsvalues.utf16_len(json.dumps(item, ensure_ascii=False))
        elif isinstance(item, dict):
            total += 2 + max(len(item) - 1, 0) + len(item)  # braces, commas, colons
            for key, child in item.items():
                total += jsvalues.utf16_len(json.dumps(key, ensure_ascii=False))
                stack.append(child)
        else:  # list or tuple
            total += 2 + max(len(item) - 1, 0)
            stack.extend(item)
    return total


def check_result(value: Any, max_chars: int = MAX_OUTPUT_CHARS) -> None:
    """Raise unless ``value`` is JSON and its JS JSON text is at most ``max_chars`` long."""
    kind = type(value)
    if kind is bool or kind is int or value is None:
        return
    if kind is str and 6 * len(value) + 2 <= max_chars:  # at most 6 UTF-16 units per character
        return
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ExpressionError(
            EXPRESSION_EVALUATION_FAILED, MSG_NOT_SERIALIZABLE, stage="evaluate"
        ) from exc
    if len(text) * _SAFE_FACTOR <= max_chars:
        return
    if js_json_length(value) > max_chars:
        raise ExpressionError(EXPRESSION_RESULT_TOO_LARGE, MSG_TOO_LARGE, stage="evaluate")
