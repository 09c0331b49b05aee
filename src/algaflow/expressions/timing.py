"""The time an evaluation runs at: an argument, never a clock read.

``$nowIso()`` must give the same answer when a run is replayed, so the expressions part never reads
the clock. Whoever evaluates passes ``now`` (``evaluate(..., now=...)``); code that runs registry
handlers on behalf of a step (node handlers, ``json.query``) sets it for the handler with
:func:`evaluation_time`, so the expressions those handlers evaluate see the step's time too.
An evaluation with no time at all fails ``$nowIso()`` with ``EXPRESSION_TIME_UNSET``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from algaflow.expressions.errors import EXPRESSION_TIME_UNSET, ExpressionError

_NOW: ContextVar[datetime | None] = ContextVar("algaflow_evaluation_time", default=None)


@contextmanager
def evaluation_time(now: datetime | None) -> Iterator[None]:
    """Evaluations inside the block run at ``now`` (``None`` keeps the time already set)."""
    if now is None:
        yield
        return
    if now.tzinfo is None:
        raise ValueError("the evaluation time must be timezone-aware")
    token = _NOW.set(now)
    try:
        yield
    finally:
        _NOW.reset(token)


def current_time() -> datetime:
    """The time of the evaluation in progress; the coded error when nobody gave one."""
    now = _NOW.get()
    if now is None:
        raise ExpressionError(
            EXPRESSION_TIME_UNSET,
            "$nowIso() needs the evaluation time, and none was given",
            stage="evaluate",
        )
    return now


_STEPS_ONLY: ContextVar[bool] = ContextVar("algaflow_steps_only", default=False)


@contextmanager
def steps_only() -> Iterator[None]:
    """Evaluations inside the block are limited by their step and work counts only, never by the
    wall clock: a replay (a Temporal workflow's) must fail or pass exactly as the first run did."""
    token = _STEPS_ONLY.set(True)
    try:
        yield
    finally:
        _STEPS_ONLY.reset(token)


def wall_clock_limited() -> bool:
    """False inside :func:`steps_only`."""
    return not _STEPS_ONLY.get()
