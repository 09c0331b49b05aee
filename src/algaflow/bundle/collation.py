"""Node's ``String.prototype.localeCompare`` order (ICU, en-US, tertiary strength), without ICU.

Alga sorts dependency lists and multi-workflow exports with ``localeCompare``, so the bytes of an
export depend on it. It is *not* code-point order: ``a_b < a-b < a.b < ab``, ``a.B < A.b``,
``a10 < a9``.

Exact for printable ASCII plus TAB/LF/VT/FF/CR (checked against Node 20 / ICU 74-78): compare the
primary weights of :data:`PRIMARY_ORDER` (letters case-folded), shorter-prefix first; then case,
left to right, lowercase first. Other C0 controls, U+007F and U+00AD are ignorable; strings that
compare equal keep their input order (the sort is stable, like V8's).

Beyond ASCII this is an approximation (no ICU dependency): characters are NFKD-decomposed, an
ASCII base character takes its ASCII weight and combining marks become a secondary (accent) level,
so accented Latin is right (``e < é < f``, ``ß`` = ``ss``, ``æ`` = ``ae``); other spaces,
punctuation and symbols join the ASCII band of their Unicode category (currency just before the
digits, as ICU does); other digits weigh as their value; all other letters sort after ``z`` by
case-folded code point, which follows ICU's script order only roughly (Latin < Greek < Cyrillic
< ... < Han). Within one band ICU's own order of non-ASCII punctuation and symbols is not
reproduced. Workflow keys, action ids, node types and schema refs are ASCII in practice.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

#: Primary order of the non-alphanumeric characters, then digits; letters follow (case-folded).
PRIMARY_ORDER = (
    "\t\n\x0b\x0c\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz"
)

_PRIMARY: dict[str, tuple[int, int]] = {ch: (i, 0) for i, ch in enumerate(PRIMARY_ORDER)}
_PRIMARY.update({ch.upper(): _PRIMARY[ch] for ch in "abcdefghijklmnopqrstuvwxyz"})
_IGNORABLE = frozenset([chr(c) for c in range(0x20) if chr(c) not in _PRIMARY] + ["\x7f", "\xad"])
_LETTERS = len(PRIMARY_ORDER)
# Non-ASCII symbols join the ASCII band ICU puts their category in (just after its ASCII members).
_BAND = {"Z": " ", "P": "%", "Sk": "^", "Sm": "~", "So": "~", "Sc": "$"}
# Letters ICU sorts as expansions or as a base letter with a secondary difference.
_EXPAND = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o\u0338", "đ": "d\u0335", "ł": "l\u0337"}

CollationKey = tuple[tuple[tuple[int, int], ...], tuple[int, ...], tuple[int, ...]]


def _add_secondary(secondary: list[int], mark: str) -> None:
    if secondary:
        secondary[-1] = secondary[-1] * 0x10000 + ord(mark)
    else:  # a mark with no base character still outranks nothing at the accent level
        secondary.append(ord(mark))


def _weights(
    ch: str, primary: list[tuple[int, int]], secondary: list[int], tertiary: list[int]
) -> None:
    """Append one character's (primary, secondary, tertiary) weights; ignorables add nothing."""
    if ch in _IGNORABLE:
        return
    weight = _PRIMARY.get(ch)
    if weight is not None:
        primary.append(weight)
        secondary.append(0)
        tertiary.append(1 if "A" <= ch <= "Z" else 0)
        return
    lower = ch.lower()
    if lower in _EXPAND:
        for part in _EXPAND[lower]:
            _weights(part.upper() if lower != ch else part, primary, secondary, tertiary)
        return
    decomposed = unicodedata.normalize("NFKD", ch)
    if decomposed != ch:
        for part in decomposed:
            if unicodedata.combining(part):
                _add_secondary(secondary, part)
            else:
                _weights(part, primary, secondary, tertiary)
        return
    category = unicodedata.category(ch)
    if unicodedata.combining(ch):
        _add_secondary(secondary, ch)
        return
    if category in ("Cc", "Cf"):
        return
    if category == "Nd":
        primary.append(_PRIMARY[str(unicodedata.decimal(ch))])
    else:
        band = _BAND.get(category, _BAND.get(category[0]))
        folded = ord(ch.casefold()[0])
        primary.append((_PRIMARY[band][0], folded) if band else (_LETTERS, folded))
    secondary.append(0)
    tertiary.append(0 if ch.casefold() == ch else 1)


@lru_cache(maxsize=4096)
def locale_compare_key(text: str) -> CollationKey:
    """A sort key such that ``key(a) < key(b)`` iff ``a.localeCompare(b) < 0`` (see module doc)."""
    primary: list[tuple[int, int]] = []
    secondary: list[int] = []
    tertiary: list[int] = []
    for ch in text:
        _weights(ch, primary, secondary, tertiary)
    return tuple(primary), tuple(secondary), tuple(tertiary)


def locale_compare(a: str, b: str) -> int:
    """``a.localeCompare(b)``: -1, 0 or 1."""
    ka, kb = locale_compare_key(a), locale_compare_key(b)
    return (ka > kb) - (ka < kb)


def sort_locale(strings: Iterable[str]) -> list[str]:
    """``[...strings].sort((a, b) => a.localeCompare(b))``: stable for equal-collating strings."""
    return sorted(strings, key=locale_compare_key)
