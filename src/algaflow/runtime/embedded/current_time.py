"""Expression entry points for work done outside a run step, evaluated at the current time.

Inside a run, ``$nowIso()`` is the step's ``now`` (the core passes it). A trigger's payload
mapping runs once, when the event arrives and before any run exists, so the moment it is
evaluated at is simply the current time, read here from algaflow's one clock.
"""

from __future__ import annotations

from typing import Any

from algaflow import expressions
from algaflow.kernel.clock import utcnow


def resolve_input_mapping(
    mapping: dict[str, Any] | None, context: dict[str, Any], **options: Any
) -> dict[str, Any] | None:
    """:func:`algaflow.expressions.resolve_input_mapping` at ``now`` (default: the clock's)."""
    options.setdefault("now", utcnow())
    return expressions.resolve_input_mapping(mapping, context, **options)
