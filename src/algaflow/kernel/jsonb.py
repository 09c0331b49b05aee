"""What PostgreSQL's JSONB does to JSON values, as pure functions: key order, refused values.

The interpreter core needs both (a run must behave the same on SQLite and PostgreSQL, and a value
no database stores fails its step the same way everywhere) but may not import the store, whose
column types need SQLAlchemy.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

from algaflow.kernel.jsvalues import json_pointer, number_to_string


def jsonb_key_order(value: Any) -> Any:
    """``value`` with every object's keys in PostgreSQL JSONB order (shorter first, then bytes).

    Alga keeps definitions in JSONB, so maps that are evaluated in order (``transform.assign``)
    run in this order there. Applying it on load makes runs identical on SQLite and PostgreSQL,
    and unaffected by the sorted key order of exported bundles.
    """
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode("utf-8")), k.encode("utf-8")))
        return {k: jsonb_key_order(value[k]) for k in keys}
    if isinstance(value, list):
        return [jsonb_key_order(item) for item in value]
    return value


_UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


def unstorable_paths(value: Any) -> Iterator[tuple[str, str]]:
    """(pointer, message) for every NUL, lone surrogate or non-finite number in a JSON value.

    PostgreSQL refuses NUL in text and JSONB and lone surrogates anywhere; non-finite numbers are
    not JSON (JSONB refuses them, SQLite would store ``NaN`` that no other reader parses). The C
    encoder answers "is anything wrong?" in a fraction of a walk's time: its ASCII text spells NUL
    ``\\u0000`` and every surrogate ``\\udxxx``, so two substring tests clear almost every value
    (an escaped backslash before ``u0000``, or a valid pair, is a false alarm that costs the walk).
    Only a value that fails them is walked to find the pointers.
    """
    try:
        text = json.dumps(value, allow_nan=False)
    except ValueError:
        text = None
    if text is not None and "\\u0000" not in text and "\\ud" not in text:
        return
    stack: list[tuple[Any, Any]] = [(value, None)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and _UNSTORABLE_TEXT.search(key):
                    yield _pointer(where), f"key {key!r} contains NUL or a lone surrogate"
                stack.append((child, (where, key)))
        elif isinstance(item, list | tuple):
            stack.extend((child, (where, i)) for i, child in enumerate(item))
        elif isinstance(item, str):
            if _UNSTORABLE_TEXT.search(item):
                yield _pointer(where), "contains NUL (\\u0000) or a lone surrogate"
        elif isinstance(item, float) and not math.isfinite(item):
            yield _pointer(where), f"{number_to_string(item)} is not a JSON number"


def _pointer(where: Any) -> str:
    parts: list[Any] = []
    while where is not None:
        where, part = where
        parts.append(part)
    return json_pointer(*reversed(parts))
