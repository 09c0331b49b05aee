"""JavaScript value semantics that Alga's bytes and functions depend on, and JSON value helpers.

Alga runs on Node: numbers are IEEE doubles printed by ``Number::toString``, strings are UTF-16,
``String(v)`` has its own rules. Canonical JSON (bundle), ``toString``/``len`` (expressions) and the
transform actions all need the same answers, so they live here once. So do the JSON helpers that
every layer needs the same way: pointers and nesting depth.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

# ECMAScript WhiteSpace + LineTerminator: what String.prototype.trim (and Number()) remove.
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)

#: Deepest array/object nesting of any JSON document algaflow accepts: a bundle, whole (8x the
#: deepest real bundle). Python parses, validates and serialises JSON recursively; a bound keeps
#: every layer clear of ``RecursionError``.
MAX_JSON_DEPTH = 128

_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_QUOTES_OR_BRACKETS = bytes(b for b in range(256) if b not in b'"[]{}')
_RUNS = re.compile(rb"\[+|\]+")
#: Passes that remove every innermost ``[]`` pair (one nesting level each) before counting.
_COLLAPSE_PASSES = 8
_CHUNK = 1 << 20  # bytes of text split at a time by json_depth


def number_to_string(value: float | int) -> str:
    """ECMAScript ``Number::toString(10)`` for a double (``1e21`` -> ``1e+21``, ``-0`` -> ``0``)."""
    x = float(value)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    mantissa, _, exponent = repr(abs(x)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # n: position of the decimal point relative to the first significant digit.
    n = (
        len(int_part.lstrip("0"))
        if int_part.strip("0")
        else -(len(frac_part) - len(frac_part.lstrip("0")))
    )
    n += int(exponent) if exponent else 0
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        exp = ("+" if e >= 0 else "-") + str(abs(e))
        body = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + exp
    return sign + body


def to_float64(value: int | float) -> float:
    """What ``JSON.parse`` makes of a number literal: a double (huge ints become +/-inf)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def utf16_len(text: str) -> int:
    """``String.prototype.length``: astral characters count twice."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def js_string(value: Any) -> str:
    """JavaScript ``String(v)`` for JSON values (objects give ``[object Object]``)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return number_to_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join("" if item is None else js_string(item) for item in value)
    return "[object Object]"


def js_trim(text: str) -> str:
    """``String.prototype.trim`` (Python's ``strip`` uses a different whitespace set)."""
    return text.strip(JS_WHITESPACE)


def json_pointer(*parts: Any) -> str:
    """A JSON pointer (RFC 6901) from path components."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _bracket_chunks(raw: bytes) -> Iterator[bytes]:
    """The brackets of ``raw`` outside strings, as ``[``/``]``, a chunk of the text at a time.

    A chunk never ends inside a run of backslashes, so each escape is whole in one chunk, and
    whether a chunk starts inside a string carries over from the quotes counted before it. Small
    chunks keep the pieces ``split`` makes from costing several times the text in memory.
    """
    inside = False
    start, size = 0, len(raw)
    while start < size:
        end = min(start + _CHUNK, size)
        while end < size and raw[end - 1] == 0x5C:  # "\\"
            end += 1
        chunk = raw[start:end].replace(b"\\\\", b"").replace(b'\\"', b"")
        # The escapes left (\\n, \\u...) say nothing of strings: only quotes and brackets
        # matter now, and dropping the rest first makes the split cheap.
        parts = chunk.translate(_AS_SQUARE, _NOT_QUOTES_OR_BRACKETS).split(b'"')
        yield b"".join(parts[1::2] if inside else parts[::2])
        inside ^= len(parts) % 2 == 0
        start = end


def json_depth(raw: bytes) -> int:
    """The deepest bracket nesting in JSON text, ignoring brackets in strings (never recurses).

    Linear in ``len(raw)`` whatever the input, with the heavy work in C-level ``bytes`` operations,
    so that it is cheap enough for a request body before anything parses it. Strings go first:
    escaped backslashes and quotes are removed, then every other quote delimits a string. Then a
    few passes remove innermost ``[]`` pairs (each pass lowers every nesting by one), and the
    runs of brackets that remain are counted. For text that is not JSON the answer is only an
    estimate, which is all a guard needs: such text fails to parse anyway.
    """
    brackets = b"".join(_bracket_chunks(raw))
    passes = 0
    while brackets and passes < _COLLAPSE_PASSES:
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            break
        brackets, passes = shorter, passes + 1
    depth = deepest = 0
    for run in _RUNS.finditer(brackets):
        if run[0][0] == 0x5B:  # "["
            depth += len(run[0])
            deepest = max(deepest, depth)
        else:
            depth -= len(run[0])
    return passes + deepest


def value_depth(value: Any) -> int:
    """:func:`json_depth` of a parsed value (``{}`` is 1, a scalar 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest
