"""What a database failure means to a caller: one coded error per kind, for every surface.

The HTTP API and the CLI both turn failures that no operation anticipated into these, so a lost
connection or a deadlock is a coded, retryable answer rather than a 500 or a traceback.
"""

from __future__ import annotations

import sqlalchemy as sa

from algaflow.kernel.errors import AlgaflowError

#: PostgreSQL SQLSTATEs of transactions that lost to a concurrent one: retrying succeeds.
_RETRYABLE_CONFLICTS = frozenset({"40001", "40P01", "55P03"})  # serialization, deadlock, lock


def _sqlstate(exc: sa.exc.DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)


def is_transient_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a transaction that lost to a concurrent one, so a retry can succeed."""
    return isinstance(exc, sa.exc.DBAPIError) and _sqlstate(exc) in _RETRYABLE_CONFLICTS


def _reason(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__


def database_error(exc: BaseException) -> AlgaflowError | None:
    """The coded error for a database failure, or None when ``exc`` is not one."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return None
    reason = _reason(exc)
    if isinstance(exc, sa.exc.DataError):
        return AlgaflowError(
            "UNSTORABLE_VALUE",
            f"The database refused a value of the request: {reason}",
            details={"errors": [{"message": reason}]},
        )
    if isinstance(exc, sa.exc.IntegrityError):
        return AlgaflowError(
            "CONSTRAINT_VIOLATION",
            f"The database refused the write, which was not saved: {reason}",
        )
    if "database is locked" in reason:
        return AlgaflowError(
            "DATABASE_BUSY",
            "The database is busy with another write. Retry the request.",
        )
    if is_transient_conflict(exc):
        return AlgaflowError(
            "DATABASE_CONFLICT",
            "The write collided with a concurrent one and was not saved. Retry the request.",
        )
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return AlgaflowError(
            "DATABASE_UNAVAILABLE",
            f"The database could not be reached or dropped the connection: {reason}. "
            "Nothing was saved; retry the request.",
        )
    return None
