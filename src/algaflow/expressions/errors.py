"""Errors of the expression layer, with stable codes and Alga's message texts.

Two kinds: :class:`ExpressionError` (compiling or evaluating one expression went wrong) and
:class:`MappingError` (resolving a mapping failed at a JSON-pointer ``path``; its ``category`` is
the runtime error category Alga gives that failure, ``ExpressionError`` or ``ActionError``).
"""

from __future__ import annotations

from typing import Any, Literal

from algaflow.kernel.errors import AlgaflowError

Stage = Literal["compile", "evaluate"]

EXPRESSION_SYNTAX_ERROR = "EXPRESSION_SYNTAX_ERROR"
EXPRESSION_EMPTY = "EXPRESSION_EMPTY"
EXPRESSION_DISALLOWED_FUNCTION = "EXPRESSION_DISALLOWED_FUNCTION"
EXPRESSION_LAMBDA = "EXPRESSION_LAMBDA"
EXPRESSION_DYNAMIC_CALL = "EXPRESSION_DYNAMIC_CALL"
EXPRESSION_INVALID_APPLY = "EXPRESSION_INVALID_APPLY"
EXPRESSION_UNDEFINED_RESULT = "EXPRESSION_UNDEFINED_RESULT"
EXPRESSION_RESULT_TOO_LARGE = "EXPRESSION_RESULT_TOO_LARGE"
EXPRESSION_TIMEOUT = "EXPRESSION_TIMEOUT"
EXPRESSION_LIMIT_EXCEEDED = "EXPRESSION_LIMIT_EXCEEDED"
EXPRESSION_EVALUATION_FAILED = "EXPRESSION_EVALUATION_FAILED"
#: ``$nowIso()`` was evaluated with no evaluation time given (a caller bug, not a user error).
EXPRESSION_TIME_UNSET = "EXPRESSION_TIME_UNSET"

INVALID_ASSIGN_PATH = "INVALID_ASSIGN_PATH"
SECRET_RESOLUTION_FAILED = "SECRET_RESOLUTION_FAILED"

# Alga's own message texts (expressionEngine.ts), so messages read the same on both systems.
MSG_EMPTY = "Expression is empty"
MSG_LAMBDA = "Expression uses a function definition (lambda), which is not allowed"
MSG_DYNAMIC_CALL = "Expression uses a dynamic or computed function call, which is not allowed"
MSG_INVALID_APPLY = (
    "Expression applies (~>) a value that cannot be validated against the function allowlist"
)
MSG_NOT_SERIALIZABLE = "Expression result is not JSON-serializable"
MSG_TOO_LARGE = "Expression result exceeded max output size"


def msg_disallowed(name: str) -> str:
    return f"Expression uses disallowed function: {name}"


def msg_timeout(timeout_ms: int) -> str:
    return f"Expression evaluation exceeded {timeout_ms}ms"


def msg_steps(max_steps: int) -> str:
    """algaflow's own: the deterministic step budget ran out (Alga only has the time check)."""
    return f"Expression evaluation exceeded its budget of {max_steps} steps"


def msg_host_work(max_values: int) -> str:
    """algaflow's own: the workflow functions were handed more values than one evaluation may."""
    return f"Expression evaluation passed more than {max_values} values to workflow functions"


class ExpressionError(AlgaflowError):
    """An expression failed to compile (``stage="compile"``) or to evaluate (``"evaluate"``)."""

    category = "ExpressionError"

    def __init__(
        self,
        code: str,
        message: str,
        *,
        stage: Stage,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code, message, details=details)
        self.stage: Stage = stage

    def __repr__(self) -> str:
        return f"ExpressionError({self.code!r}, {self.message!r}, stage={self.stage!r})"


class MappingError(Exception):
    """Resolving a mapping value failed at ``path`` (a JSON pointer, ``""`` for the root).

    ``category`` follows Alga: evaluation failures are ``ExpressionError``; compile failures and
    secret failures are ``ActionError``. ``code`` is the stable code of the underlying failure.
    """

    def __init__(self, category: str, message: str, *, path: str, code: str) -> None:
        super().__init__(message)
        self.category = category
        self.message = message
        self.path = path
        self.code = code

    def to_dict(self) -> dict[str, Any]:
        """The structured ``{category, message, path, code}`` object Alga throws."""
        return {
            "category": self.category,
            "message": self.message,
            "path": self.path,
            "code": self.code,
        }

    def __repr__(self) -> str:
        return (
            f"MappingError({self.category!r}, {self.message!r}, path={self.path!r}, "
            f"code={self.code!r})"
        )
