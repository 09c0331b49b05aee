"""Formatting instants as JavaScript does, without reading any clock.

Kept apart from :mod:`algaflow.kernel.clock` so that pure code (the interpreter core) can format
the ``now`` it was given without being able to read the time itself.
"""

from __future__ import annotations

from datetime import UTC, datetime


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
