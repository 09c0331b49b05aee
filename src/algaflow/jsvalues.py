"""JavaScript value semantics that Alga's bytes and functions depend on.

Alga runs on Node: numbers are IEEE doubles printed by ``Number::toString``, strings are UTF-16,
``String(v)`` has its own rules. Canonical JSON (bundle), ``toString``/``len`` (expressions) and the
transform actions all need the same answers, so they live here once.
"""

from __future__ import annotations

import math
from typing import Any


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
