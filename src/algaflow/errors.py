"""One error type for every part, so the API and the CLI can answer with a stable code.

Every failure a user can cause is an :class:`AlgaflowError` with a ``code`` that never changes
meaning, the HTTP ``status`` it maps to, a readable ``message`` and optional structured ``details``.
"""

from __future__ import annotations

from typing import Any


class AlgaflowError(Exception):
    """A failure with a stable code; ``details`` is JSON-serialisable."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """Alga's ``{error, details?}`` body plus the stable ``code``."""
        body: dict[str, Any] = {"code": self.code, "error": self.message}
        if self.details:
            body["details"] = self.details
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, status={self.status})"


def not_found(code: str, message: str, **details: Any) -> AlgaflowError:
    return AlgaflowError(code, message, status=404, details=details or None)


def conflict(code: str, message: str, **details: Any) -> AlgaflowError:
    return AlgaflowError(code, message, status=409, details=details or None)


def invalid(code: str, message: str, *, status: int = 400, **details: Any) -> AlgaflowError:
    return AlgaflowError(code, message, status=status, details=details or None)
