"""algaflow's own JSONata token scanner and the function allow-list (reference §2.3).

The engine has no Python AST, and the allow-list must not depend on the engine anyway, so this
module lexes the (normalised) source the way jsonata-js does and checks the token stream:

* string literals, backtick names, ``/* comments */`` and regex literals are skipped;
* ``/`` starts a regex only where an operand is expected (after an operator, ``(``, ``,`` ... or at
  the start), otherwise it is division. ``and``/``or``/``in`` are names in operand position and
  operators otherwise; ``*``, ``**`` and ``%`` are wildcards/parent in operand position. Where this
  and the engine could disagree, the engine's reading is a syntax error, so nothing hides from us;
* names run up to whitespace (`` \\t\\n\\r\\v`` only) or an operator character, quotes included
  (``a"b`` is one name, as in the engine).

Rules (the first violation wins, in source order):

* ``function(`` / ``λ(`` (also as backtick names): a lambda definition.
* ``(`` right after an operand is a call. The callee must resolve to an allow-listed name: a
  ``$name`` variable, a bare name, or a parenthesised group holding only such a name or a dotted
  path of them (Alga resolves a path to its last step). Anything else is a dynamic call.
* ``~>``: the right-hand side must be an allow-listed name, or a call, optionally parenthesised, and
  nothing that binds tighter than ``~>`` may follow it (``x ~> $len.$eval`` is refused).
* ``$len := ...``, ``@$len``, ``#$len``: rebinding an allow-listed name would let an allow-listed
  call run something else, so it counts as a dynamic call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from algaflow.expressions.errors import (
    EXPRESSION_DISALLOWED_FUNCTION,
    EXPRESSION_DYNAMIC_CALL,
    EXPRESSION_INVALID_APPLY,
    EXPRESSION_LAMBDA,
    MSG_DYNAMIC_CALL,
    MSG_INVALID_APPLY,
    MSG_LAMBDA,
    msg_disallowed,
)
from algaflow.expressions.functions import ALLOWED_FUNCTIONS

# Token kinds.
NAME = "name"  # bare name (including and/or/in used as names)
VAR = "var"  # $name, $ and $$; text keeps the leading $
BTICK = "btick"  # `quoted name`; text is the content
STR = "str"
NUM = "num"
REGEX = "regex"
VALUE = "value"  # true, false, null
WILD = "wild"  # *, ** or % in operand position, or the ? placeholder of a partial call
OP = "op"  # every operator and punctuation token

_WS = " \t\n\r\v"
_OP_CHARS = ".[]{}(),@#;:?+-*/%|=<>^&!~"
_OP2 = frozenset({"..", ":=", "!=", ">=", "<=", "**", "~>", "?:", "??"})
_NAME_RE = re.compile(r"[^ \t\n\r\v" + re.escape(_OP_CHARS) + r"]+")
_NUM_RE = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[Ee][-+]?[0-9]+)?")
_QUOTED = {
    '"': re.compile(r'"(?:[^"\\]|\\.)*"?', re.S),
    "'": re.compile(r"'(?:[^'\\]|\\.)*'?", re.S),
}
_OPERATOR_NAMES = frozenset({"and", "or", "in"})
_VALUE_NAMES = frozenset({"true", "false", "null"})
_LAMBDA_NAMES = frozenset({"function", "λ"})
_OPERAND_END = frozenset({NAME, VAR, BTICK, STR, NUM, REGEX, VALUE, WILD})
# Tokens that end the right-hand side of ``~>``: binding power <= 40, closers and separators.
_APPLY_END = frozenset(
    {")", "]", "}", ",", ";", ":", "?", "|", "~>", "..", ":=", "??", "?:"}
    | {"=", "!=", "<", ">", "<=", ">=", "and", "or", "in"}
)


class Token(NamedTuple):  # a tuple: built several times faster than a frozen dataclass
    kind: str
    text: str
    start: int
    call: bool = False  # for "(": a call (it follows an operand) rather than a group


def _ends_operand(token: Token) -> bool:
    return token.kind in _OPERAND_END or (token.kind == OP and token.text in ")]}")


def _scan_regex(source: str, i: int) -> int:
    """End of a regex literal whose opening ``/`` is at ``i`` (jsonata-js ``scanRegex``)."""
    n = len(source)
    j = i + 1
    depth = 0
    while j < n:
        ch = source[j]
        if ch == "/" and depth == 0:
            backslashes = 0
            while source[j - 1 - backslashes] == "\\":
                backslashes += 1
            if backslashes % 2 == 0:
                j += 1
                while j < n and source[j] in "im":
                    j += 1
                return j
        if ch in "([{" and source[j - 1] != "\\":
            depth += 1
        elif ch in ")]}" and source[j - 1] != "\\":
            depth -= 1
        j += 1
    return n  # unterminated: the engine reports it


def tokenize(source: str) -> list[Token]:
    """Significant tokens of ``source``; comments and whitespace are dropped. Never raises."""
    tokens: list[Token] = []
    n = len(source)
    i = 0
    while i < n:
        ch = source[i]
        if ch in _WS:
            i += 1
            continue
        expect_operand = not tokens or not _ends_operand(tokens[-1])
        if ch == "/" and source.startswith("/*", i):
            end = source.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if ch == "/" and expect_operand:
            end = _scan_regex(source, i)
            tokens.append(Token(REGEX, source[i:end], i))
            i = end
            continue
        if ch in _QUOTED:
            match = _QUOTED[ch].match(source, i)
            assert match is not None  # the pattern always matches at a quote
            tokens.append(Token(STR, match.group(), i))
            i = match.end()
            continue
        if ch == "`":
            end = source.find("`", i + 1)
            end = n if end < 0 else end
            tokens.append(Token(BTICK, source[i + 1 : end], i))
            i = end + 1
            continue
        if ch in _OP_CHARS:
            text = source[i : i + 2] if source[i : i + 2] in _OP2 else ch
            kind = OP
            if expect_operand and text in ("*", "**", "%", "?"):
                kind = WILD
            tokens.append(Token(kind, text, i, call=text == "(" and not expect_operand))
            i += len(text)
            continue
        if "0" <= ch <= "9":
            match = _NUM_RE.match(source, i)
            assert match is not None  # a digit always matches
            tokens.append(Token(NUM, match.group(), i))
            i = match.end()
            continue
        match = _NAME_RE.match(source, i)
        assert match is not None  # any other character starts a name
        text = match.group()
        if text.startswith("$"):
            kind = VAR
        elif text in _OPERATOR_NAMES:
            kind = NAME if expect_operand else OP
        elif text in _VALUE_NAMES:
            kind = VALUE
        else:
            kind = NAME
        tokens.append(Token(kind, text, i))
        i = match.end()
    return tokens


@dataclass(frozen=True, slots=True)
class Violation:
    code: str
    message: str
    position: int


def _matching(tokens: list[Token]) -> dict[int, int]:
    """Index of the partner of every bracket token that has one (both directions)."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for index, token in enumerate(tokens):
        if token.kind != OP:
            continue
        if token.text in "([{":
            stack.append(index)
        elif token.text in ")]}" and stack:
            opener = stack.pop()
            pairs[opener] = index
            pairs[index] = opener
    return pairs


def _callee_name(token: Token) -> str | None:
    """The name a single token stands for as a callee, or ``None`` if it is not a name."""
    if token.kind == VAR:
        return token.text[1:]
    if token.kind in (NAME, BTICK):
        return token.text
    return None


def _resolve(tokens: list[Token], pairs: dict[int, int], lo: int, hi: int) -> str | None:
    """Alga's callee resolution for ``tokens[lo:hi]``: a name, a path's last step, or a group."""
    if hi - lo == 1:
        return _callee_name(tokens[lo])
    first = tokens[lo]
    if first.kind == OP and first.text == "(" and not first.call and pairs.get(lo) == hi - 1:
        return _resolve(tokens, pairs, lo + 1, hi - 1)
    # a dotted path of names: name (. name)+
    if (hi - lo) % 2 == 0:
        return None
    for k in range(lo, hi):
        is_step = (k - lo) % 2 == 0
        if is_step and _callee_name(tokens[k]) is None:
            return None
        if not is_step and not (tokens[k].kind == OP and tokens[k].text == "."):
            return None
    return _callee_name(tokens[hi - 1])


def _check_name(name: str | None, position: int) -> Violation | None:
    if name is None:
        return Violation(EXPRESSION_DYNAMIC_CALL, MSG_DYNAMIC_CALL, position)
    if name in ALLOWED_FUNCTIONS:
        return None
    return Violation(EXPRESSION_DISALLOWED_FUNCTION, msg_disallowed(name), position)


def _check_call(tokens: list[Token], pairs: dict[int, int], paren: int) -> Violation | None:
    callee = tokens[paren - 1]
    if callee.kind in (NAME, BTICK) and callee.text in _LAMBDA_NAMES:
        return Violation(EXPRESSION_LAMBDA, MSG_LAMBDA, callee.start)
    if callee.kind == OP and callee.text == ")":
        opener = pairs.get(paren - 1)
        if opener is None or tokens[opener].call:
            return _check_name(None, callee.start)
        inner = _resolve(tokens, pairs, opener + 1, paren - 1)
        return _check_name(inner, tokens[opener].start)
    return _check_name(_callee_name(callee), callee.start)


def _check_apply(tokens: list[Token], pairs: dict[int, int], arrow: int) -> Violation | None:
    """``~>``: the right-hand side is an allow-listed name or call and nothing binds to it."""
    invalid = Violation(EXPRESSION_INVALID_APPLY, MSG_INVALID_APPLY, tokens[arrow].start)
    k = arrow + 1
    if k >= len(tokens):
        return invalid
    first = tokens[k]
    if _callee_name(first) is not None:
        end = k + 1
    elif first.kind == OP and first.text == "(" and k in pairs:
        end = pairs[k] + 1
    else:
        return invalid
    is_call = end < len(tokens) and tokens[end].call
    if is_call and first.kind in (NAME, BTICK) and first.text in _LAMBDA_NAMES:
        return None  # a lambda: the call rule reports it as such
    if is_call:  # the call itself is checked by the call rule
        if end not in pairs:
            return invalid
        end = pairs[end] + 1
    else:
        problem = _check_name(_resolve(tokens, pairs, k, end), first.start)
        if problem is not None:
            return invalid if problem.code == EXPRESSION_DYNAMIC_CALL else problem
    if end < len(tokens) and not (tokens[end].kind == OP and tokens[end].text in _APPLY_END):
        return invalid
    return None


def _check_rebind(tokens: list[Token], index: int) -> Violation | None:
    """``$len := ...``, ``x@$len``, ``x#$len`` would shadow an allow-listed function."""
    token = tokens[index]
    if token.kind != VAR or token.text[1:] not in ALLOWED_FUNCTIONS:
        return None
    before = tokens[index - 1] if index else None
    after = tokens[index + 1] if index + 1 < len(tokens) else None
    binds = (after is not None and after.kind == OP and after.text == ":=") or (
        before is not None and before.kind == OP and before.text in ("@", "#")
    )
    if not binds:
        return None
    message = f"Expression rebinds the allowlisted function {token.text}, which is not allowed"
    return Violation(EXPRESSION_DYNAMIC_CALL, message, token.start)


def find_violation(tokens: list[Token]) -> Violation | None:
    """The first allow-list violation in ``tokens``, or ``None``. Never raises."""
    pairs = _matching(tokens)
    for index, token in enumerate(tokens):
        problem: Violation | None = None
        if token.kind == OP and token.text == "(" and token.call:
            problem = _check_call(tokens, pairs, index)
        elif token.kind == OP and token.text == "~>":
            problem = _check_apply(tokens, pairs, index)
        elif token.kind == VAR:
            problem = _check_rebind(tokens, index)
        if problem is not None:
            return problem
    return None
