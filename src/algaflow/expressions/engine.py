"""The JSONata engine behind a small interface: compile, evaluate, limits, error mapping.

This is the only module that imports ``jlens`` (pinned; see ``reference/jsonata-engines.md``).
Swapping the engine means rewriting this file and keeping ``tests/expressions`` green.

Limits are always passed, because jlens has none by default and an expression without them can run
forever. The time limit is a real, pre-emptive engine timeout (Alga's is a 25 ms check after the
fact that never fires inside its Temporal sandbox); the default is 250 ms, which a legitimate
expression never needs and which a shared 2-core machine will not trip by accident.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, NoReturn

import jlens

from algaflow.expressions.errors import (
    EXPRESSION_DISALLOWED_FUNCTION,
    EXPRESSION_EMPTY,
    EXPRESSION_EVALUATION_FAILED,
    EXPRESSION_RESULT_TOO_LARGE,
    EXPRESSION_SYNTAX_ERROR,
    EXPRESSION_TIMEOUT,
    EXPRESSION_UNDEFINED_RESULT,
    MSG_EMPTY,
    MSG_NOT_SERIALIZABLE,
    MSG_TOO_LARGE,
    ExpressionError,
    msg_disallowed,
    msg_timeout,
)
from algaflow.expressions.functions import WORKFLOW_FUNCTIONS
from algaflow.expressions.normalize import normalize_expression_source
from algaflow.expressions.results import MAX_OUTPUT_CHARS, check_result
from algaflow.expressions.scanner import find_violation, tokenize

DEFAULT_TIMEOUT_MS = 250
CACHE_SIZE = 2048

# Engine guards. max_result_size counts UTF-8 bytes of JSON: 3 bytes per UTF-16 unit at most, so
# this cap only fires on results that are over MAX_OUTPUT_CHARS anyway.
ENGINE_LIMITS: dict[str, int] = {
    "max_depth": 1_000,
    "max_array_length": 1_000_000,
    "max_string_length": 16 * 1024 * 1024,
    "max_result_size": 3 * MAX_OUTPUT_CHARS + 16,
}

# Second line of defence behind the scanner: built-ins that run unchecked code (``$eval``) or read
# the clock or randomness (the interpreter must stay deterministic) raise if they are ever reached.
BLOCKED_BUILTINS = ("eval", "now", "millis", "random", "shuffle")

_DEFAULT_OPTIONS = {"timeout": DEFAULT_TIMEOUT_MS / 1000, **ENGINE_LIMITS}
_TIMEOUT_CODE = "D1012"
_SIZE_CODE = "U1001"


def _blocked(name: str) -> Any:
    def stub(*_: Any) -> NoReturn:
        raise ExpressionError(
            EXPRESSION_DISALLOWED_FUNCTION, msg_disallowed(name), stage="evaluate"
        )

    return stub


_STUBS = {name: _blocked(name) for name in BLOCKED_BUILTINS}


def _engine_details(exc: jlens.JlensError) -> dict[str, Any]:
    details: dict[str, Any] = {"engineCode": exc.code}
    if exc.position is not None:
        details["position"] = exc.position
    return details


def build_engine_expression(normalized: str) -> jlens.Expression:
    """Parse ``normalized`` and register the workflow functions and the blocking stubs.

    Does **not** run the allow-list; :func:`compile_expression` does. Raises ``JlensError``.
    """
    expression = jlens.Expression(normalized)
    for name, function in WORKFLOW_FUNCTIONS.items():
        expression.register_function(name, function)
    for name, stub in _STUBS.items():
        expression.register_function(name, stub)
    return expression


class CompiledExpression:
    """A validated expression, ready to evaluate against any number of contexts (thread-safe)."""

    __slots__ = ("_engine", "normalized", "source")

    def __init__(self, source: str, normalized: str, engine: jlens.Expression) -> None:
        self.source = source
        self.normalized = normalized
        self._engine = engine

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"

    def evaluate(self, context: dict[str, Any], *, timeout_ms: int | None = None) -> Any:
        """Evaluate with ``context`` as the input document; return a JSON value or raise.

        Post-checks in Alga's order: time limit, undefined result, JSON size.
        """
        if timeout_ms is None:
            limit_ms, options = DEFAULT_TIMEOUT_MS, _DEFAULT_OPTIONS
        elif timeout_ms > 0:
            limit_ms, options = timeout_ms, {**_DEFAULT_OPTIONS, "timeout": timeout_ms / 1000}
        else:
            raise ValueError("timeout_ms must be positive")
        try:
            result = self._engine.evaluate(context, **options)
            # jlens returns None for both null and undefined; only JSON text tells them apart.
            if (
                result is None
                and self._engine.evaluate_json(json.dumps(context), **options) is None
            ):
                raise ExpressionError(
                    EXPRESSION_UNDEFINED_RESULT, MSG_NOT_SERIALIZABLE, stage="evaluate"
                )
        except jlens.JlensError as exc:
            raise _evaluation_error(exc, limit_ms) from exc
        except (TypeError, ValueError) as exc:  # a context value the engine cannot read
            raise ExpressionError(EXPRESSION_EVALUATION_FAILED, str(exc), stage="evaluate") from exc
        check_result(result)
        return result


def _evaluation_error(exc: jlens.JlensError, limit_ms: int) -> ExpressionError:
    if exc.code == _TIMEOUT_CODE:
        return ExpressionError(EXPRESSION_TIMEOUT, msg_timeout(limit_ms), stage="evaluate")
    if exc.code == _SIZE_CODE and "result" in str(exc):
        return ExpressionError(EXPRESSION_RESULT_TOO_LARGE, MSG_TOO_LARGE, stage="evaluate")
    return ExpressionError(
        EXPRESSION_EVALUATION_FAILED, str(exc), stage="evaluate", details=_engine_details(exc)
    )


@lru_cache(maxsize=CACHE_SIZE)
def compile_expression(source: str) -> CompiledExpression:
    """Normalise, parse, check the allow-list and compile ``source``; cached by source text.

    Raises :class:`ExpressionError` with ``stage="compile"``. A syntax error wins over an
    allow-list violation, as in Alga (which parses before it walks the AST).
    """
    normalized = normalize_expression_source(source)
    tokens = tokenize(normalized)
    if not tokens:
        raise ExpressionError(EXPRESSION_EMPTY, MSG_EMPTY, stage="compile")
    try:
        engine = build_engine_expression(normalized)
    except jlens.JlensError as exc:
        raise ExpressionError(
            EXPRESSION_SYNTAX_ERROR, str(exc), stage="compile", details=_engine_details(exc)
        ) from exc
    except ValueError as exc:  # text the engine cannot take at all, such as a lone surrogate
        raise ExpressionError(EXPRESSION_SYNTAX_ERROR, str(exc), stage="compile") from exc
    violation = find_violation(tokens)
    if violation is not None:
        raise ExpressionError(
            violation.code,
            violation.message,
            stage="compile",
            details={"position": violation.position},
        )
    return CompiledExpression(source, normalized, engine)


def validate_expression_source(source: str) -> None:
    """Raise :class:`ExpressionError` (``stage="compile"``) unless ``source`` would compile."""
    compile_expression(source)
