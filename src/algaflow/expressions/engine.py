"""The JSONata engine behind a small interface: compile, evaluate, limits, error mapping.

This is the only module that imports ``jlens`` (pinned; see ``reference/jsonata-engines.md``).
Swapping the engine means rewriting this file and keeping ``tests/expressions`` green.

Limits are always passed, because jlens has none by default and an expression without them can run
forever. The first line is deterministic, so a replay gets the same outcome: a budget of engine
steps (``EXPRESSION_TIMEOUT``) and caps on every array and string the engine builds
(``EXPRESSION_LIMIT_EXCEEDED``). Behind them is a pre-emptive wall-clock timeout (Alga's is a 25 ms
check after the fact that never fires inside its Temporal sandbox), 250 ms by default, for work
the step count does not see (one step can build a whole array). Evaluation runs on a converted
:class:`jlens.Document` so the engine releases the GIL and a runaway never stalls other threads.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any, NoReturn

import jlens

from algaflow.expressions.budget import host_budget, metered
from algaflow.expressions.errors import (
    EXPRESSION_DISALLOWED_FUNCTION,
    EXPRESSION_EMPTY,
    EXPRESSION_EVALUATION_FAILED,
    EXPRESSION_LIMIT_EXCEEDED,
    EXPRESSION_RESULT_TOO_LARGE,
    EXPRESSION_SYNTAX_ERROR,
    EXPRESSION_TIMEOUT,
    EXPRESSION_UNDEFINED_RESULT,
    MSG_EMPTY,
    MSG_NOT_SERIALIZABLE,
    MSG_TOO_LARGE,
    ExpressionError,
    msg_disallowed,
    msg_steps,
    msg_timeout,
)
from algaflow.expressions.functions import WORKFLOW_FUNCTIONS
from algaflow.expressions.inputs import prune_to_reads
from algaflow.expressions.normalize import normalize_expression_source
from algaflow.expressions.results import MAX_OUTPUT_CHARS, check_result
from algaflow.expressions.scanner import find_violation, tokenize
from algaflow.expressions.timing import evaluation_time, wall_clock_limited

DEFAULT_TIMEOUT_MS = 250
CACHE_SIZE = 2048

# Engine steps (one per node evaluated, so a filter over n items takes about 4n): a hundred times
# more than any expression of Alga's sample corpus needs on a 10,000-item payload, and about 30 ms
# of work, far inside the wall-clock limit even on a busy machine.
MAX_STEPS = 100_000
# Items of any array or sequence the engine builds (input arrays are not limited). A result
# cannot hold more than MAX_OUTPUT_CHARS / 2 items anyway.
MAX_ARRAY_LENGTH = 100_000
MAX_STRING_BYTES = 4 * 1024 * 1024

# Engine guards. max_result_size counts UTF-8 bytes of JSON: 3 bytes per UTF-16 unit at most, so
# this cap only fires on results that are over MAX_OUTPUT_CHARS anyway.
ENGINE_LIMITS: dict[str, int] = {
    "max_depth": 1_000,
    "max_steps": MAX_STEPS,
    "max_array_length": MAX_ARRAY_LENGTH,
    "max_string_length": MAX_STRING_BYTES,
    "max_result_size": 3 * MAX_OUTPUT_CHARS + 16,
}

# Second line of defence behind the scanner: built-ins that run unchecked code (``$eval``) or read
# the clock or randomness (the interpreter must stay deterministic) raise if they are ever reached.
BLOCKED_BUILTINS = ("eval", "now", "millis", "random", "shuffle")

_DEFAULT_OPTIONS: dict[str, Any] = {"timeout": DEFAULT_TIMEOUT_MS / 1000, **ENGINE_LIMITS}
_TIMEOUT_CODE = "D1012"
_SIZE_CODE = "U1001"
_STEPS_CODE = "U1006"
_NO_INPUT = jlens.Document({})


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


def _presigned(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with its signature computed once: the engine inspects it on every
    registration, which otherwise costs several times the parse of a short expression."""
    function.__signature__ = inspect.signature(function)  # type: ignore[attr-defined]
    return function


_HOST_FUNCTIONS = {
    name: _presigned(function)
    for name, function in [
        *((name, metered(function)) for name, function in WORKFLOW_FUNCTIONS.items()),
        *_STUBS.items(),
    ]
}


def build_engine_expression(normalized: str) -> jlens.Expression:
    """Parse ``normalized`` and register the workflow functions and the blocking stubs it names.

    Registering costs about as much as parsing, per function, so only the functions whose name
    occurs anywhere in the text are registered: a JSONata function is reached through a ``$name``
    spelt in the expression, never through a computed name, and a plain substring test cannot
    miss one (it leans towards registering). Does **not** run the allow-list;
    :func:`compile_expression` does. Raises ``JlensError``.
    """
    expression = jlens.Expression(normalized)
    for name, function in _HOST_FUNCTIONS.items():
        if name in normalized:
            expression.register_function(name, function)
    return expression


class CompiledExpression:
    """A validated expression, ready to evaluate against any number of contexts (thread-safe)."""

    __slots__ = ("_engine", "_exists", "_reads", "normalized", "source")

    def __init__(self, source: str, normalized: str, engine: jlens.Expression) -> None:
        self.source = source
        self.normalized = normalized
        self._engine = engine
        self._exists: jlens.Expression | None = None  # built on the first null result
        self._reads = engine.reads().get("input")  # None: the input is not read at all

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"

    def evaluate(
        self,
        context: dict[str, Any],
        *,
        now: datetime | None = None,
        timeout_ms: int | None = None,
    ) -> Any:
        """Evaluate with ``context`` as the input document; return a JSON value or raise.

        ``now`` is what ``$nowIso()`` answers (None: the time set by an enclosing
        :func:`~algaflow.expressions.timing.evaluation_time`). Post-checks in Alga's order: time
        limit, undefined result, JSON size.
        """
        if timeout_ms is None:
            limit_ms, options = DEFAULT_TIMEOUT_MS, _DEFAULT_OPTIONS
        elif timeout_ms > 0:
            limit_ms, options = timeout_ms, {**_DEFAULT_OPTIONS, "timeout": timeout_ms / 1000}
        else:
            raise ValueError("timeout_ms must be positive")
        if not wall_clock_limited():
            options = {**options, "timeout": None}
        try:
            # Only what the expression reads is converted, once, so a big context stays cheap.
            used = None if self._reads is None else prune_to_reads(context, self._reads)
            document = _NO_INPUT if self._reads is None else jlens.Document(used)
            with evaluation_time(now):
                with host_budget(limit_ms):
                    result = self._engine.evaluate_document(document, **options)
                # jlens returns None for both null and undefined: ask ``$exists`` which it was.
                if result is None and self._is_undefined(document, limit_ms, options):
                    raise ExpressionError(
                        EXPRESSION_UNDEFINED_RESULT, MSG_NOT_SERIALIZABLE, stage="evaluate"
                    )
        except jlens.JlensError as exc:
            raise _evaluation_error(exc, limit_ms) from exc
        except (TypeError, ValueError) as exc:  # a context value the engine cannot read
            raise ExpressionError(EXPRESSION_EVALUATION_FAILED, str(exc), stage="evaluate") from exc
        check_result(result)
        return result

    def _is_undefined(
        self, document: jlens.Document, limit_ms: int, options: dict[str, Any]
    ) -> bool:
        """The second pass, on the document already converted: ``$exists`` of the expression.

        It costs one more evaluation of the expression, whatever the size of the context (the
        expression already ran once, deterministically, within the same limits).
        """
        exists = self._exists
        if exists is None:  # a race only builds it twice
            exists = self._exists = build_engine_expression(f"$exists((\n{self.normalized}\n))")
        with host_budget(limit_ms):
            return exists.evaluate_document(document, **options) is False


def _evaluation_error(exc: jlens.JlensError, limit_ms: int) -> ExpressionError:
    if exc.code == _TIMEOUT_CODE:
        return ExpressionError(
            EXPRESSION_TIMEOUT,
            msg_timeout(limit_ms),
            stage="evaluate",
            details={"limit": "time", "timeoutMs": limit_ms, "engineCode": exc.code},
        )
    if exc.code == _STEPS_CODE:
        return ExpressionError(
            EXPRESSION_TIMEOUT,
            msg_steps(MAX_STEPS),
            stage="evaluate",
            details={"limit": "steps", "maxSteps": MAX_STEPS, "engineCode": exc.code},
        )
    if exc.code == _SIZE_CODE and "result" in str(exc):
        return ExpressionError(EXPRESSION_RESULT_TOO_LARGE, MSG_TOO_LARGE, stage="evaluate")
    if exc.code == _SIZE_CODE:  # an array or a string the engine was building
        return ExpressionError(
            EXPRESSION_LIMIT_EXCEEDED, str(exc), stage="evaluate", details=_engine_details(exc)
        )
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
