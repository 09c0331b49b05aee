"""Pure facts about workflow rows (keys, ids, values both databases store), and the key
conflict error, shared by the store and the bundle.

The store enforces them on writes; the bundle checks an import against them before any database
is involved. Both need the same answers, and neither may import the other, so they live here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from algaflow.kernel.errors import AlgaflowError

#: Workflow keys (Alga's ``/^[a-z0-9][a-z0-9._-]*$/``), anchored with ``\Z`` so that ``match``,
#: ``search`` and ``fullmatch`` all refuse a trailing newline as JavaScript's ``$`` does. The
#: one copy: the store and the bundle format use it.
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*\Z")
#: What may start a key: its alphabet, possibly empty.
KEY_PREFIX_PATTERN = re.compile(r"[a-z0-9._-]*\Z")
#: The largest value of an int4 column (version numbers, limits).
INT4_MAX = 2**31 - 1


def canonical_uuid(value: Any) -> str | None:
    """``value`` as a canonical (lowercase, hyphenated) UUID string, or None if it is no UUID.

    Ids that are not UUIDs cannot exist; answering them before any SQL runs also keeps
    PostgreSQL from refusing the cast.
    """
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        return None


def key_conflict(
    existing: Mapping[str, str | None],
    *,
    hint: str = "",
    error: type[AlgaflowError] = AlgaflowError,
) -> AlgaflowError:
    """``WORKFLOW_KEY_CONFLICT`` (409) for taken keys (``existing``: key -> workflow id, in order).

    One shape everywhere (create, import, a concurrent import): the first conflict's
    ``workflowKey``/``existingWorkflowId`` (Alga's fields) and all of them in ``conflicts``.
    ``error`` lets the bundle importer raise its own error type.
    """
    conflicts = [{"workflowKey": k, "existingWorkflowId": v} for k, v in existing.items()]
    first = conflicts[0]
    more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
    return error(
        "WORKFLOW_KEY_CONFLICT",
        f'Workflow with key "{first["workflowKey"]}" already exists{more}.{hint}',
        details={**first, "conflicts": conflicts},
    )


def parse_failure_rate_threshold(value: Any) -> Decimal | None:
    """NUMERIC(5,2) exactly as PostgreSQL (and so Alga) stores it, the same on SQLite.

    PostgreSQL rounds half away from zero (``0.025`` -> ``0.03``) and checks the range *after*
    rounding (``999.995`` -> ``1000.00`` does not fit); it has no negative zero.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise _threshold_error(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _threshold_error(value) from None
    if not number.is_finite() or number.copy_abs() >= 1000:  # keeps quantize in range
        raise _threshold_error(value)
    rounded = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if abs(rounded) >= 1000:
        raise _threshold_error(value)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def _threshold_error(value: Any) -> AlgaflowError:
    return AlgaflowError(
        "INVALID_FIELD",
        f"failureRateThreshold {value!r} is not a NUMERIC(5,2).",
        details={"field": "failureRateThreshold"},
    )


def format_threshold(value: Decimal | None) -> str | None:
    """NUMERIC(5,2) as the string PostgreSQL (and so Alga) prints: ``0.50``."""
    return None if value is None else f"{Decimal(value):.2f}"
