"""Alga's source normalisation (reference §2.2), a plain text rewrite done before parsing.

Both rules apply everywhere, string literals included, exactly as Alga does: ``==`` becomes ``=``
(so ``===`` becomes ``==``, which then fails to parse) and an allow-listed name called
without ``$`` gets one (``len(x)`` -> ``$len(x)``) unless it follows ``.``, ``$`` or an ASCII
word character.
"""

from __future__ import annotations

import re

from algaflow.expressions.functions import ALLOWED_FUNCTIONS

# JavaScript's ``\s`` (Python's differs: it has no U+FEFF and adds U+001C..U+001F and U+0085).
_JS_SPACE = (
    "[\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]"
)
_BARE_CALL = re.compile(
    r"(?<![.$A-Za-z0-9_])(" + "|".join(sorted(ALLOWED_FUNCTIONS)) + r")(?=" + _JS_SPACE + r"*\()"
)


def normalize_expression_source(source: str) -> str:
    """Rewrite ``==`` to ``=`` and bare allow-listed calls to ``$name(`` (one pass, like Alga)."""
    return _BARE_CALL.sub(r"$\1", source.replace("==", "="))
