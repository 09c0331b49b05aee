"""Canonical JSON: the exact bytes of Alga's ``JSON.stringify(canonicalize(v), null, 2) + "\\n"``.

Export must be byte-stable and byte-identical to Alga's, so every JavaScript detail counts:

* object keys sorted by UTF-16 code units, except that "array index" keys (``"0"``, ``"17"``, up to
  ``2**32 - 2``) come first in numeric order, because that is how JS objects enumerate; a key named
  ``__proto__`` vanishes (assigning it on ``{}`` calls the prototype setter);
* arrays keep their order;
* numbers are IEEE doubles printed by ``Number::toString`` (``1.0`` -> ``1``, ``1e21`` -> ``1e+21``,
  ``-0`` -> ``0``); NaN and +/-Infinity print as ``null``;
* strings escape only ``"``, ``\\``, C0 controls (short forms or lowercase ``\\u00xx``) and *lone*
  surrogates (lowercase ``\\udxxx``), so the UTF-8 encoding always succeeds; U+2028, U+007F and
  everything else is raw;
* two-space indentation, ``": "`` after keys, ``{}``/``[]`` for empty containers, one final ``\\n``.

:func:`loads_json` parses like ``JSON.parse`` behind a Fetch body decoder: a leading BOM is dropped,
``NaN``/``Infinity`` literals are errors, the last duplicate key wins, and every number is rounded
to a double. Integral numbers within ``+/-2**53`` come back as Python ``int`` (``1.0`` -> ``1``),
so ``formatVersion: 1`` and ``version: 2.0`` are plain ints for the rest of the code; JS cannot
tell them apart either.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left
from collections.abc import Callable
from json.encoder import encode_basestring  # C: escapes "\ and C0
from typing import Any

from algaflow.bundle import fastjson
from algaflow.bundle.errors import BundleError
from algaflow.kernel.errors import AlgaflowError
from algaflow.kernel.gcpause import paused_gc
from algaflow.kernel.jsvalues import number_to_string, to_float64

_SAFE = 2**53
_MAX_ARRAY_INDEX = 2**32 - 2
_SURROGATES = re.compile("[\ud800-\udfff]")
# A high surrogate followed by a low one is one character in UTF-16: JS emits it raw.
_SURROGATE_RUN = re.compile("[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]")


def _is_array_index(key: str) -> bool:
    """JS "array index": canonical decimal (no sign, no leading zero) below ``2**32 - 1``."""
    if not key or not key.isascii() or not key.isdigit():
        return False
    if key[0] == "0":
        return key == "0"
    return len(key) <= 10 and int(key) <= _MAX_ARRAY_INDEX


def _utf16_units(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _non_str_key(obj: dict[Any, Any]) -> AlgaflowError:
    bad = next(key for key in obj if not isinstance(key, str))
    return AlgaflowError(
        "NON_JSON_VALUE",
        f"canonical JSON needs string object keys, got {type(bad).__name__}",
    )


def _ordered_keys(obj: dict[Any, Any]) -> list[str]:
    """Keys in the order ``JSON.stringify`` prints them after Alga's canonicalize."""
    try:
        joined = "".join(obj)  # one C call both type-checks the keys and tells if all are ASCII
    except TypeError:
        raise _non_str_key(obj) from None
    # Code-point order equals UTF-16 order unless a key holds a character >= U+D800.
    keys = sorted(obj) if joined.isascii() else sorted(obj, key=_utf16_units)
    if "__proto__" in obj:
        keys.remove("__proto__")
    # Only keys starting with a digit can be array indexes; in code-point order they are contiguous.
    first = bisect_left(keys, "0") if joined.isascii() else 0
    if first < len(keys) and (not joined.isascii() or keys[first] < ":"):
        index_keys = sorted((k for k in keys if _is_array_index(k)), key=int)
        if index_keys:
            keys = index_keys + [k for k in keys if not _is_array_index(k)]
    return keys


def _fix_surrogate(match: re.Match[str]) -> str:
    text = match.group()
    if len(text) == 2:  # a valid pair spelt as two code points: the astral character, raw
        return text.encode("utf-16-be", "surrogatepass").decode("utf-16-be")
    return f"\\u{ord(text):04x}"


def encode_string(value: str) -> str:
    """A JSON string literal exactly as ``JSON.stringify`` writes it (well-formed UTF-16)."""
    out: str = encode_basestring(value)
    if not value.isascii() and _SURROGATES.search(value):
        out = _SURROGATE_RUN.sub(_fix_surrogate, out)
    return out


def encode_number(value: int | float) -> str:
    """``JSON.stringify`` of a number: the double's ``Number::toString``; NaN/Infinity -> null."""
    if type(value) is int and -_SAFE <= value <= _SAFE:
        return str(value)
    x = to_float64(value)
    if math.isnan(x) or math.isinf(x):
        return "null"
    if x.is_integer() and -_SAFE <= x <= _SAFE:
        return str(int(x))
    return number_to_string(x)


def _non_json(value: Any) -> AlgaflowError:
    return AlgaflowError(
        "NON_JSON_VALUE",
        "canonical JSON expects only JSON-compatible values (dicts with string keys, lists, str, "
        f"int, float, bool, None); got {type(value).__name__}",
    )


def _kind(value: Any) -> str:
    """Classify a value once, tolerating subclasses (``IntEnum``, ``OrderedDict``) like ``json``."""
    if value is None or value is True or value is False:  # bool before int; bool has no subclasses
        return "literal"
    if isinstance(value, str):
        return "str"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, list):
        return "list"
    raise _non_json(value)


def canonicalize(value: Any) -> Any:
    """A new tree whose dicts iterate in canonical key order (``__proto__`` dropped).

    Scalars are returned as they are; :func:`dumps_canonical` formats them. Raises
    ``AlgaflowError("NON_JSON_VALUE")`` for anything JSON cannot hold.
    """
    kind = _kind(value)
    if kind == "dict":
        return {key: canonicalize(value[key]) for key in _ordered_keys(value)}
    if kind == "list":
        return [canonicalize(item) for item in value]
    return value


class _Pads(dict[int, str]):
    """``pads[d]`` is a newline plus ``d`` levels of two-space indentation, made on first use."""

    def __missing__(self, depth: int) -> str:
        pad = self[depth] = "\n" + "  " * depth
        return pad


def _make_encoder(out: list[str]) -> Callable[[Any, int], None]:
    """A recursive encoder appending chunks to ``out`` (joined once by the caller).

    Hot path: exact-type checks, string members encoded inline, encoded keys cached per call.
    """
    append = out.append
    pads = _Pads()
    key_cache: dict[str, str] = {}
    escape = encode_basestring
    has_surrogate = _SURROGATES.search

    def encode(value: Any, depth: int) -> None:
        t = type(value)
        if t is str:
            if value.isascii() or not has_surrogate(value):
                append(escape(value))
            else:
                append(encode_string(value))
        elif t is dict:
            if not value or (len(value) == 1 and "__proto__" in value):
                append("{}")
                return
            inner = pads[depth + 1]
            sep = "{" + inner
            for key in _ordered_keys(value):
                encoded_key = key_cache.get(key)
                if encoded_key is None:
                    encoded_key = key_cache[key] = encode_string(key) + ": "
                append(sep)
                append(encoded_key)
                member = value[key]
                if type(member) is str and member.isascii():
                    append(escape(member))
                else:
                    encode(member, depth + 1)
                sep = "," + inner
            append(pads[depth])
            append("}")
        elif t is list:
            if not value:
                append("[]")
                return
            inner = pads[depth + 1]
            sep = "[" + inner
            for item in value:
                append(sep)
                encode(item, depth + 1)
                sep = "," + inner
            append(pads[depth])
            append("]")
        elif value is None:
            append("null")
        elif value is True:
            append("true")
        elif value is False:
            append("false")
        elif t is int or t is float:
            append(encode_number(value))
        else:
            kind = _kind(value)  # subclasses: re-dispatch on the base type
            if kind == "str":
                encode(str(value), depth)
            elif kind == "number":
                encode((float if isinstance(value, float) else int)(value), depth)
            elif kind == "dict":
                encode(dict(value), depth)
            else:
                encode(list(value), depth)

    return encode


def _dumps_exact(value: Any) -> str:
    chunks: list[str] = []
    _make_encoder(chunks)(value, 0)
    chunks.append("\n")
    return "".join(chunks)


def dumps_canonical(value: Any) -> str:
    """Alga's ``stringifyCanonicalJson``: canonical text ending in one ``\\n``.

    orjson writes it when its bytes provably match (:mod:`algaflow.bundle.fastjson`); the encoder
    here, the specification, writes everything else.
    """
    fast = fastjson.dumps(value)
    return _dumps_exact(value) if fast is None else fast.decode("utf-8")


def dumps_canonical_bytes(value: Any) -> bytes:
    """:func:`dumps_canonical` as UTF-8 (never fails: lone surrogates are escaped)."""
    fast = fastjson.dumps(value)
    return _dumps_exact(value).encode("utf-8") if fast is None else fast


def _parse_number(literal: str) -> int | float:
    x = float(literal)  # correctly rounded to a double, like JSON.parse; huge -> inf
    if x.is_integer() and -_SAFE <= x <= _SAFE:
        return int(x)
    return x


def _parse_int(literal: str) -> int | float:
    # Up to 15 digits (plus sign) is always below 2**53: exact, and int() is the cheap path.
    return int(literal) if len(literal) < 16 else _parse_number(literal)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads_json(data: str | bytes | bytearray) -> Any:
    """Parse JSON text like ``JSON.parse`` after a Fetch body decoder; see the module docstring.

    Raises ``BundleError("INVALID_JSON")`` with ``details={"line", "column", "position"}`` when the
    text is not JSON (bytes must be UTF-8).
    """
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BundleError(
                "INVALID_JSON",
                f"Request body is not valid UTF-8 (byte {exc.start}).",
                details={"position": exc.start},
            ) from None
    else:
        text = data
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        with paused_gc():  # a JSON tree has no cycles to collect while it is built
            return json.loads(
                text,
                parse_int=_parse_int,
                parse_float=_parse_number,
                parse_constant=_reject_constant,
            )
    except json.JSONDecodeError as exc:
        raise BundleError(
            "INVALID_JSON",
            f"Invalid JSON: {exc.msg} (line {exc.lineno} column {exc.colno}).",
            details={"line": exc.lineno, "column": exc.colno, "position": exc.pos},
        ) from None
    except ValueError as exc:  # NaN / Infinity literals
        raise BundleError("INVALID_JSON", f"Invalid JSON: {exc}.") from None
    except RecursionError:
        raise BundleError("INVALID_JSON", "Invalid JSON: nested too deeply.") from None
