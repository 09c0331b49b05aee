"""The one place that reads the clock and makes ids, so tests (and replays) can pin both.

The sources live in a :class:`~contextvars.ContextVar`, not in module globals: pinning them with
:func:`frozen` affects only the current thread or task (and what it starts with a copy of its
context), so a test's frozen clock never leaks into a server's worker thread, and vice versa.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import NamedTuple

from algaflow.kernel.instants import iso_millis

__all__ = ["frozen", "iso_millis", "new_id", "utcnow"]


class _Sources(NamedTuple):
    now: Callable[[], datetime]
    new_id: Callable[[], str]


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def _uuid4() -> str:
    return str(uuid.uuid4())


_REAL = _Sources(_wall_clock, _uuid4)
_sources: ContextVar[_Sources] = ContextVar("algaflow_clock")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return _sources.get(_REAL).now()


def new_id() -> str:
    """A new UUIDv4 as its canonical lowercase string."""
    return _sources.get(_REAL).new_id()


@contextmanager
def frozen(
    now: Callable[[], datetime] | None = None, new_id: Callable[[], str] | None = None
) -> Iterator[None]:
    """Replace the clock and/or the id source in this context for a ``with`` block."""
    current = _sources.get(_REAL)
    token = _sources.set(_Sources(now or current.now, new_id or current.new_id))
    try:
        yield
    finally:
        _sources.reset(token)
