"""A work budget for the Python functions an expression calls, checked on every call.

The engine counts its own steps, but a call to a workflow function such as ``$toString`` is one
step however big its argument: ``[1..25000].$toString([1..99999])`` would spend seconds in Python,
holding the GIL, between two of the engine's clock checks. Each call therefore pays for the JSON
values it receives (a deterministic count, so replays agree) and checks the evaluation's deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

from algaflow.expressions.errors import (
    EXPRESSION_TIMEOUT,
    ExpressionError,
    msg_host_work,
    msg_timeout,
)
from algaflow.expressions.timing import wall_clock_limited

# JSON values handed to workflow functions per evaluation. A 512 KiB event payload holds at most
# ~260,000 values, so ``$len(payload)`` always fits; ``$toString`` spends ~1.3 us per value.
MAX_HOST_VALUES = 500_000
# Characters of a string that count as one value (strings are cheap to copy, not free).
_CHARS_PER_VALUE = 256


class HostBudget:
    """What one evaluation may still spend in workflow functions, and until when."""

    __slots__ = ("deadline", "remaining", "timeout_ms")

    def __init__(self, timeout_ms: int, remaining: int = MAX_HOST_VALUES) -> None:
        self.remaining = remaining
        self.timeout_ms = timeout_ms
        limited = wall_clock_limited()
        self.deadline = time.monotonic() + timeout_ms / 1000 if limited else float("inf")

    def charge(self, values: tuple[Any, ...]) -> None:
        """Pay for ``values`` (counting stops once the budget is gone) or raise the coded error."""
        if time.monotonic() > self.deadline:
            raise ExpressionError(
                EXPRESSION_TIMEOUT,
                msg_timeout(self.timeout_ms),
                stage="evaluate",
                details={"limit": "time", "timeoutMs": self.timeout_ms},
            )
        stack = list(values)
        remaining = self.remaining
        while stack and remaining >= 0:
            value = stack.pop()
            remaining -= 1
            if isinstance(value, str):
                remaining -= len(value) // _CHARS_PER_VALUE
            elif isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, list | tuple):
                stack.extend(value)
        self.remaining = remaining
        if remaining < 0:
            raise ExpressionError(
                EXPRESSION_TIMEOUT,
                msg_host_work(MAX_HOST_VALUES),
                stage="evaluate",
                details={"limit": "functionValues", "maxFunctionValues": MAX_HOST_VALUES},
            )


_CURRENT: ContextVar[HostBudget | None] = ContextVar("algaflow_expression_budget", default=None)


@contextmanager
def host_budget(timeout_ms: int) -> Iterator[HostBudget]:
    """Make a fresh budget the current one for the evaluation inside the block."""
    budget = HostBudget(timeout_ms)
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def metered(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, charging the current budget (if any) for its arguments before it runs."""

    @wraps(function)
    def call(*args: Any) -> Any:
        budget = _CURRENT.get()
        if budget is not None:
            budget.charge(args)
        return function(*args)

    return call
