"""One error type for every part, so the API and the CLI can answer with a stable code.

Every failure a user can cause is an :class:`AlgaflowError` with a ``code`` that never changes
meaning, a readable ``message`` and optional structured ``details``. What a code means to HTTP
(its status) is the API's business: one table, ``algaflow.api.statuses``, gives each code exactly
one status, and a test keeps that table complete.
"""

from __future__ import annotations

from typing import Any


class AlgaflowError(Exception):
    """A failure with a stable code; ``details`` is JSON-serialisable."""

    def __init__(self, code: str, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """Alga's ``{error, details?}`` body plus the stable ``code``."""
        body: dict[str, Any] = {"code": self.code, "error": self.message}
        if self.details:
            body["details"] = self.details
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"
