"""Errors raised by registries, schema parsing and action handlers."""

from __future__ import annotations

from typing import Any

from algaflow.kernel.errors import AlgaflowError


class ActionSchemaError(AlgaflowError):
    """An action's input or output did not match its schema (``details.issues`` lists why)."""

    def __init__(self, code: str, message: str, issues: list[dict[str, str]]) -> None:
        super().__init__(code, message, details={"issues": issues})
        self.issues = issues


class ActionRuntimeError(Exception):
    """A structured failure from a handler; the runtime keeps ``category``/``code``/``details``.

    Alga's handlers throw plain objects ``{category, code, message, details}``; this is the Python
    equivalent so that ``retryOn``, ``captureErrorAs`` and the stored ``error_json`` see the same
    fields.
    """

    def __init__(
        self,
        category: str,
        code: str | None,
        message: str,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.category = category
        self.code = code
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"category": self.category, "message": self.message}
        if self.code is not None:
            body["code"] = self.code
        if self.details is not None:
            body["details"] = self.details
        return body

    def __repr__(self) -> str:
        return f"ActionRuntimeError({self.category!r}, {self.code!r}, {self.message!r})"


def action_failed(message: str) -> ActionRuntimeError:
    """What a plain ``throw new Error(message)`` in an Alga handler turns into (§3.5.1)."""
    return ActionRuntimeError("ActionError", "INTERNAL_ERROR", message)
