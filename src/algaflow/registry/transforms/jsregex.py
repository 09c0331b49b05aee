"""JavaScript ``RegExp`` as Python regex syntax: syntax, flags, ``lastIndex`` and replacements.

Alga's regex actions run user patterns with JavaScript semantics. The translation covers what
workflow authors write: named groups ``(?<n>...)`` and ``\\k<n>``, the JS meanings of ``\\d \\w
\\s \\b . ^ $`` (ASCII digits and word characters, JS whitespace and line terminators), ``[^]``
and ``[]``, ``\\cX``, ``\\u{...}``, legacy octal escapes and literal braces. Flags ``d g i m s u v
y`` are honoured (``d`` has no visible effect here, ``v`` is treated as ``u``). Known gaps, which
are reported as invalid patterns or documented: Unicode property escapes ``\\p{..}`` (not
translated) and matching half of a surrogate pair (Python strings hold code points, so an astral
character is one unit).

Matching uses the ``regex`` module (the ``re`` syntax the translation emits, plus a per-call
timeout that releases the GIL), because a backtracking pattern such as ``^(a|a)*$`` can take
exponential time and must be stoppable without stalling every other thread: :func:`compile_js`
patterns take a ``deadline`` and raise :class:`JsRegexTimeout` past it. Error messages never quote
the pattern, which may come from a secret: they name the problem and its offset.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import regex

from algaflow.kernel.jsvalues import JS_WHITESPACE

SUPPORTED_FLAGS = "dgimsuvy"
_WORD = "A-Za-z0-9_"
_WS = "".join(f"\\u{ord(c):04x}" for c in JS_WHITESPACE)
_LINE_END = r"\n\r\u2028\u2029"
_SYNTAX = set("^$\\.*+?()[]{}|/")
_QUANTIFIER = re.compile(r"\{(\d+)(,(\d*))?\}")
_GROUP_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "f": "\f", "v": "\v"}


class JsRegexError(ValueError):
    """The pattern or flags would make ``new RegExp`` throw; the message never quotes the pattern.

    ``position`` is the code point offset in the pattern where the problem was found, if known.
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


class JsRegexTimeout(Exception):
    """Matching went past its deadline (a pattern that backtracks catastrophically on the text)."""


@dataclass(frozen=True)
class JsRegExp:
    """A compiled pattern with what JavaScript needs to know about it."""

    source: str
    flags: str
    compiled: regex.Pattern[str]
    names: tuple[tuple[str, int], ...]  # (JS group name, group number), in pattern order

    @property
    def sticky(self) -> bool:
        return "y" in self.flags

    def exec(
        self, text: str, last_index: int = 0, deadline: float | None = None
    ) -> regex.Match[str] | None:
        """``RegExp.prototype.exec`` from ``last_index`` (a code point offset).

        ``deadline`` is a :func:`time.monotonic` instant; past it, raise :class:`JsRegexTimeout`.
        """
        if last_index > len(text):
            return None
        timeout = None
        if deadline is not None:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise JsRegexTimeout
        find = self.compiled.match if self.sticky else self.compiled.search
        try:
            return find(text, last_index, timeout=timeout, concurrent=True)
        except TimeoutError as exc:
            raise JsRegexTimeout from exc

    def groups(self, match: regex.Match[str]) -> list[str | None]:
        return [match.group(i) for i in range(1, self.compiled.groups + 1)]

    def named_groups(self, match: regex.Match[str]) -> dict[str, str | None] | None:
        """``match.groups``: ``None`` (JS ``undefined``) when the pattern has no named groups."""
        if not self.names:
            return None
        return {name: match.group(number) for name, number in self.names}


def check_flags(flags: str) -> str | None:
    """Alga's flag rule: letters from ``dgimsuvy``, each at most once. Returns the problem."""
    seen: set[str] = set()
    for flag in flags:
        if flag not in SUPPORTED_FLAGS:
            return f'unsupported flag "{flag}"'
        if flag in seen:
            return f'duplicate flag "{flag}"'
        seen.add(flag)
    return None


def compile_js(pattern: str, flags: str) -> JsRegExp:
    """``new RegExp(pattern, flags)``; raises :class:`JsRegexError` like V8's SyntaxError."""
    problem = check_flags(flags)
    if problem is None and "u" in flags and "v" in flags:
        problem = "u and v together"
    if problem is not None:
        raise JsRegexError(f"Invalid flags supplied to RegExp constructor '{flags}'")
    translator = _Translator(pattern, flags)
    try:
        translated, names = translator.run()
        options = regex.V0 | (regex.IGNORECASE if "i" in flags else 0)
        compiled = regex.compile(translated, options)
    except JsRegexError as exc:
        position = translator.pos if exc.position is None else exc.position
        raise JsRegexError(_invalid(str(exc)), min(position, len(pattern))) from exc
    except regex.error as exc:  # positions refer to the translation: not worth reporting
        raise JsRegexError(_invalid(_QUOTED.sub("...", str(getattr(exc, "msg", exc))))) from exc
    return JsRegExp(pattern, flags, compiled, names)


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def _invalid(reason: str) -> str:
    return f"Invalid regular expression: {reason[:1].upper()}{reason[1:]}"


def iter_matches(
    js_regex: JsRegExp, text: str, deadline: float | None = None
) -> Iterator[regex.Match[str]]:
    """The ``exec`` loop of a global regex: ``lastIndex`` moves past empty matches by one."""
    last_index = 0
    while True:
        match = js_regex.exec(text, last_index, deadline)
        if match is None:
            return
        yield match
        last_index = match.end() + (1 if match.end() == match.start() else 0)


def expand_replacement(
    template: str,
    text: str,
    start: int,
    end: int,
    captures: Sequence[str | None],
    named: dict[str, str | None] | None,
) -> str:
    """ECMAScript ``GetSubstitution``: ``$$ $& $` $' $n $nn $<name>``; anything else is literal."""
    out: list[str] = []
    i, m = 0, len(captures)
    while i < len(template):
        ch = template[i]
        nxt = template[i + 1] if i + 1 < len(template) else ""
        if ch != "$" or not nxt:
            out.append(ch)
            i += 1
        elif nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "&":
            out.append(text[start:end])
            i += 2
        elif nxt == "`":
            out.append(text[:start])
            i += 2
        elif nxt == "'":
            out.append(text[end:])
            i += 2
        elif nxt.isdigit() and nxt.isascii():
            two = template[i + 1 : i + 3]
            if len(two) == 2 and two.isdigit() and two.isascii() and 1 <= int(two) <= m:
                out.append(captures[int(two) - 1] or "")
                i += 3
            elif 1 <= int(nxt) <= m:
                out.append(captures[int(nxt) - 1] or "")
                i += 2
            else:
                out.append("$")
                i += 1
        elif nxt == "<" and named is not None and ">" in template[i + 2 :]:
            close = template.index(">", i + 2)
            out.append(named.get(template[i + 2 : close]) or "")
            i = close + 1
        else:
            out.append("$")
            i += 1
    return "".join(out)


class _Translator:
    """One left-to-right pass; backreferences are resolved once every group has been counted."""

    def __init__(self, pattern: str, flags: str) -> None:
        self.src = pattern
        self.unicode = "u" in flags or "v" in flags
        self.dotall = "s" in flags
        self.multiline = "m" in flags
        self.pos = 0
        self.out: list[str | tuple[str, str, frozenset[int]]] = []
        self.groups = 0
        self.names: list[tuple[str, int]] = []
        self.open: list[int] = []  # group numbers of the groups being scanned (0: non-capturing)

    def run(self) -> tuple[str, tuple[tuple[str, int], ...]]:
        while self.pos < len(self.src):
            self._token()
        if self.open:
            raise JsRegexError("Unterminated group")
        return "".join(self._resolve(piece) for piece in self.out), tuple(self.names)

    # --- scanning -----------------------------------------------------------------------------

    def _token(self) -> None:
        ch = self.src[self.pos]
        self.pos += 1
        if ch == "\\":
            self._escape()
        elif ch == "[":
            self._class()
        elif ch == "(":
            self._group_open()
        elif ch == ")":
            if not self.open:
                raise JsRegexError("Unmatched ')'")
            self.open.pop()
            self.out.append(ch)
        elif ch == ".":
            self.out.append(r"[\s\S]" if self.dotall else f"[^{_LINE_END}]")
        elif ch == "^":
            self.out.append(
                rf"(?:(?<![\s\S])|(?<=[{_LINE_END}]))" if self.multiline else r"(?<![\s\S])"
            )
        elif ch == "$":
            self.out.append(rf"(?=[{_LINE_END}]|(?![\s\S]))" if self.multiline else r"(?![\s\S])")
        elif ch == "{":
            self._brace()
        elif ch in "}]":
            if self.unicode:
                raise JsRegexError("Lone quantifier brackets")
            self.out.append("\\" + ch)
        elif ch in "*+?":
            self.out.append(ch)
            self._after_quantifier()
        else:
            self.out.append(ch)

    def _after_quantifier(self) -> None:
        """A lazy ``?`` is fine; ``*+`` is Python's possessive form but a JS syntax error."""
        if self.src.startswith("?", self.pos):
            self.out.append("?")
            self.pos += 1
        if (
            self.pos < len(self.src)
            and self.src[self.pos] in "*+{"
            and not (self.src[self.pos] == "{" and not _QUANTIFIER.match(self.src, self.pos))
        ):
            raise JsRegexError("Nothing to repeat")

    def _brace(self) -> None:
        found = _QUANTIFIER.match(self.src, self.pos - 1)
        if found:
            low, high = found[1], found[3]
            if found[2] and high and int(high) < int(low):
                raise JsRegexError("numbers out of order in {} quantifier")
            self.out.append(found[0])
            self.pos = found.end()
            self._after_quantifier()
        elif self.unicode:
            raise JsRegexError("Incomplete quantifier")
        else:
            self.out.append(r"\{")

    def _group_open(self) -> None:
        rest = self.src[self.pos :]
        if rest.startswith(("?:", "?=", "?!", "?<=", "?<!")):
            head = rest[: 3 if rest.startswith(("?<=", "?<!")) else 2]
            self.open.append(0)
            self.out.append("(" + head)
            self.pos += len(head)
        elif rest.startswith("?<"):
            close = rest.find(">")
            name = rest[2:close] if close > 0 else ""
            if not _GROUP_NAME.fullmatch(name):
                raise JsRegexError("Invalid capture group name")
            if any(existing == name for existing, _ in self.names):
                raise JsRegexError("Duplicate capture group name")
            self.groups += 1
            self.open.append(self.groups)
            self.names.append((name, self.groups))
            self.out.append(f"(?P<_n{self.groups}>")
            self.pos += close + 1
        elif rest.startswith("?"):
            raise JsRegexError("Invalid group")
        else:
            self.groups += 1
            self.open.append(self.groups)
            self.out.append("(")

    def _escape(self) -> None:
        if self.pos >= len(self.src):
            raise JsRegexError("\\ at end of pattern")
        ch = self.src[self.pos]
        self.pos += 1
        simple = {
            "d": "[0-9]",
            "D": "[^0-9]",
            "w": f"[{_WORD}]",
            "W": f"[^{_WORD}]",
            "s": f"[{_WS}]",
            "S": f"[^{_WS}]",
            "b": rf"(?:(?<=[{_WORD}])(?![{_WORD}])|(?<![{_WORD}])(?=[{_WORD}]))",
            "B": rf"(?:(?<=[{_WORD}])(?=[{_WORD}])|(?<![{_WORD}])(?![{_WORD}]))",
        }
        if ch in simple:
            self.out.append(simple[ch])
        elif ch in "123456789":
            end = self.pos
            while end < len(self.src) and self.src[end] in "0123456789":
                end += 1
            self.out.append(("backref", self.src[self.pos - 1 : end], self._closed()))
            self.pos = end
        elif ch == "k" and (
            self.unicode or "(?<" in self.src.replace("(?<=", "").replace("(?<!", "")
        ):
            close = self.src.find(">", self.pos)
            if not self.src.startswith("<", self.pos) or close < 0:
                raise JsRegexError("Invalid named reference")
            self.out.append(("named", self.src[self.pos + 1 : close], self._closed()))
            self.pos = close + 1
        else:
            self.out.append(re.escape(self._char_escape(ch, in_class=False)))

    def _closed(self) -> frozenset[int]:
        """Groups that are complete here: a reference to any other one matches the empty string."""
        return frozenset(range(1, self.groups + 1)) - set(self.open)

    def _char_escape(self, ch: str, *, in_class: bool) -> str:
        """The character an escape (after ``\\``) stands for, outside the special classes."""
        if ch in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[ch]
        if ch == "b" and in_class:
            return "\b"
        if ch == "0" and not (self.pos < len(self.src) and self.src[self.pos].isdigit()):
            return "\0"
        if ch == "c":
            letter = self.src[self.pos : self.pos + 1]
            if letter.isascii() and letter.isalpha():
                self.pos += 1
                return chr(ord(letter) % 32)
            return "\\c" if not self.unicode else self._fail_escape()
        if ch == "x":
            digits = self.src[self.pos : self.pos + 2]
            if len(digits) == 2 and all(c in "0123456789abcdefABCDEF" for c in digits):
                self.pos += 2
                return chr(int(digits, 16))
            return self._identity(ch)
        if ch == "u":
            return self._unicode_escape()
        if ch in "123456789" and not self.unicode:
            return self._legacy_octal(ch)
        if ch in "pP" and self.unicode:
            raise JsRegexError("Unicode property escapes are not supported")
        if ch == "-" and in_class:
            return "-"
        return self._identity(ch)

    def _identity(self, ch: str) -> str:
        if self.unicode and ch not in _SYNTAX:
            self._fail_escape()
        return ch

    def _fail_escape(self) -> str:
        raise JsRegexError("Invalid escape")

    def _unicode_escape(self) -> str:
        if self.unicode and self.src.startswith("{", self.pos):
            close = self.src.find("}", self.pos)
            digits = self.src[self.pos + 1 : close] if close > 0 else ""
            if not digits or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise JsRegexError("Invalid Unicode escape")
            value = int(digits, 16)
            if value > 0x10FFFF:
                raise JsRegexError("Invalid Unicode escape")
            self.pos = close + 1
            return chr(value)
        digits = self.src[self.pos : self.pos + 4]
        if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
            if self.unicode:
                raise JsRegexError("Invalid Unicode escape")
            return "u"
        self.pos += 4
        value = int(digits, 16)
        low = self.src[self.pos : self.pos + 6]
        if 0xD800 <= value <= 0xDBFF and re.fullmatch(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}", low):
            self.pos += 6
            return chr(0x10000 + ((value - 0xD800) << 10) + (int(low[2:], 16) - 0xDC00))
        return chr(value)

    def _legacy_octal(self, first: str) -> str:
        """Annex B: ``\\8``/``\\9`` are the digits, ``\\1``-``\\377`` octal (no such group)."""
        if first in "89":
            return first
        digits = first
        while len(digits) < 3 and self.src[self.pos : self.pos + 1] in tuple("01234567"):
            if int(digits + self.src[self.pos], 8) > 0o377:
                break
            digits += self.src[self.pos]
            self.pos += 1
        return chr(int(digits, 8))

    def _class(self) -> None:
        if self.src.startswith("^]", self.pos):
            self.out.append(r"[\s\S]")
            self.pos += 2
            return
        if self.src.startswith("]", self.pos):
            self.out.append("(?!)")
            self.pos += 1
            return
        parts = ["["]
        if self.src.startswith("^", self.pos):
            parts.append("^")
            self.pos += 1
        while True:
            if self.pos >= len(self.src):
                raise JsRegexError("Unterminated character class")
            ch = self.src[self.pos]
            self.pos += 1
            if ch == "]":
                break
            if ch == "\\":
                parts.append(self._class_escape())
            elif ch in "[&~|\\^":
                parts.append("\\" + ch)
            else:
                parts.append(ch)
        parts.append("]")
        self.out.append("".join(parts))

    def _class_escape(self) -> str:
        if self.pos >= len(self.src):
            raise JsRegexError("\\ at end of pattern")
        ch = self.src[self.pos]
        self.pos += 1
        inner = {"d": "0-9", "w": _WORD, "s": _WS}
        if ch in inner:
            return inner[ch]
        if ch in "DWS":
            return "\\" + ch
        if ch in "123456789" and self.unicode:
            raise JsRegexError("Invalid class escape")
        if ch == "k" and not self.unicode:
            return "k"
        return re.escape(self._char_escape(ch, in_class=True))

    # --- resolution ---------------------------------------------------------------------------

    def _resolve(self, piece: str | tuple[str, str, frozenset[int]]) -> str:
        """A backreference: to a complete group (empty if it did not take part), else empty."""
        if isinstance(piece, str):
            return piece
        kind, value, closed = piece
        if kind == "named":
            number = next((n for name, n in self.names if name == value), None)
            if number is None:
                raise JsRegexError("Invalid named capture referenced")
            return f"(?(_n{number})(?P=_n{number}))" if number in closed else ""
        if int(value) <= self.groups:
            return f"(?({int(value)})\\{int(value)})" if int(value) in closed else ""
        if self.unicode:
            raise JsRegexError("Invalid escape")
        # Annex B: no such group, so the digits are an octal escape and/or literal digits.
        saved_src, saved_pos = self.src, self.pos
        self.src, self.pos = value, 1
        text = self._legacy_octal(value[0]) + value[self.pos :]
        self.src, self.pos = saved_src, saved_pos
        return re.escape(text)
