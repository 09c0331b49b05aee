"""An orjson fast path for canonical JSON, guarded to give the exact path's bytes or nothing.

:mod:`algaflow.bundle.canonical` is the specification, written out in Python; this module lets
orjson do the same work about ten times faster wherever its output provably matches, and answers
``None`` everywhere else so that the caller takes the exact path. orjson with sorted keys and
two-space indentation already writes ``JSON.stringify(v, null, 2)``'s layout and escapes, with
these differences, each caught before its bytes are used:

* values orjson refuses (lone surrogates, integers past ``2**53`` with ``OPT_STRICT_INTEGER``,
  subclasses, dataclasses, datetimes, non-string keys, nesting past its limit): it raises;
* numbers: orjson writes integral doubles as ``1.0`` and switches to exponents at ``1e16`` and
  below ``1e-5``, where ``Number::toString`` writes ``1``, ``10000000000000000`` and
  ``0.000001``. Every other double prints alike (both write the shortest round-trip digits).
  A number token is followed by a newline, which no string holds raw, so ``.0\\n`` and
  ``e-6\\n`` only ever match a number; ``e+`` may also match inside a string, which only costs
  the exact path;
* key order: orjson sorts keys by code point, JS by UTF-16 unit with array-index keys (digits)
  first and ``__proto__`` dropped. Code-point and UTF-16 order agree unless a key holds a character
  of U+E000 and above (UTF-8 lead bytes ``EE``-``F4``), so text without such bytes, without a key
  starting with a digit and without a ``"__proto__"`` key is ordered alike.

Parsing stays with ``json``: orjson returns ``1.0`` as a float and integers past ``2**53``
unrounded, and no cheap test of the text tells when that happens (a uuid's ``4e`` looks like an
exponent), while a walk to fix them up costs what orjson saves.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

_DUMPS_OPTIONS = (
    orjson.OPT_INDENT_2
    | orjson.OPT_SORT_KEYS
    | orjson.OPT_APPEND_NEWLINE
    | orjson.OPT_STRICT_INTEGER
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)
_NUMBER_MARKERS = (b".0\n", b".0,\n", b"e-6\n", b"e-6,\n", b"e+")
_HIGH_LEAD_BYTES = tuple(bytes([b]) for b in range(0xEE, 0xF5))
_DIGIT_KEY_OR_ITEM = re.compile(rb'\n *"[0-9]')  # keys, and array strings (a false alarm)
_PROTO_KEY = b'"__proto__": '


def _refuse(value: Any) -> None:
    """orjson's ``default``: anything it cannot write natively goes to the exact path."""
    raise TypeError


def dumps(value: Any) -> bytes | None:
    """The canonical bytes of ``value`` when orjson's are provably the same, else ``None``."""
    if type(value) is not dict and type(value) is not list:
        return None  # scalars and subclasses at the top: the exact path is cheap or needed
    try:
        out = orjson.dumps(value, default=_refuse, option=_DUMPS_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        return None
    if any(marker in out for marker in _NUMBER_MARKERS):
        return None
    if not out.isascii() and any(lead in out for lead in _HIGH_LEAD_BYTES):
        return None
    if _PROTO_KEY in out or _DIGIT_KEY_OR_ITEM.search(out):
        return None
    return out
