"""The one place that reads the clock and makes ids, so tests can pin both."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731
_new_id: Callable[[], str] = lambda: str(uuid.uuid4())  # noqa: E731


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return _now()


def new_id() -> str:
    """A new UUIDv4 as its canonical lowercase string."""
    return _new_id()


def iso_millis(moment: datetime) -> str:
    """JavaScript ``Date.toISOString()`` form: ``2026-01-25T12:00:00.000Z``.

    Always a four-digit year (``strftime("%Y")`` writes ``999``, which is no RFC 3339 date).
    A moment whose UTC time falls outside years 0001-9999 raises :class:`ValueError`.
    """
    try:
        m = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{moment.isoformat()} is outside years 0001-9999 in UTC") from None
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}."
        f"{m.microsecond // 1000:03d}Z"
    )


@contextmanager
def frozen(
    now: Callable[[], datetime] | None = None, new_id: Callable[[], str] | None = None
) -> Iterator[None]:
    """Replace the clock and/or the id source for the duration of a ``with`` block."""
    global _now, _new_id
    saved = (_now, _new_id)
    if now is not None:
        _now = now
    if new_id is not None:
        _new_id = new_id
    try:
        yield
    finally:
        _now, _new_id = saved
