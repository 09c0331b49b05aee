"""The envelope of an event payload, filled from the caller's context as Alga PSA does.

Alga's clients send only the domain fields of an event (``{"ticketId": ..., "changes": ...}``);
Alga adds ``tenantId``, ``occurredAt`` and the actor before validating against the payload
schema, whose base shape requires them. Doing the same here lets those clients' events pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from algaflow.kernel.clock import iso_millis

#: The actor of an algaflow caller: an API key or the command line acts for no user.
SYSTEM_ACTOR: Mapping[str, str] = {"actorType": "SYSTEM"}
ACTOR_FIELDS = ("actorType", "actorUserId", "actorContactId")


def fill_envelope(
    payload: Any,
    *,
    tenant_id: str,
    now: datetime,
    actor: Mapping[str, Any] | None = None,
) -> Any:
    """``payload`` with the envelope filled; a payload that is no object is returned unchanged.

    ``tenantId`` is always the caller's tenant: a payload naming another tenant (say, Alga's own
    tenant id) has it replaced, so a run never sees a tenant it does not belong to.
    ``occurredAt`` (ISO time of ``now``) and the actor fields are added only when the caller sent
    none of them, so what the caller said wins.
    """
    if not isinstance(payload, dict):
        return payload
    filled = dict(payload)
    filled["tenantId"] = tenant_id
    filled.setdefault("occurredAt", iso_millis(now))
    if not any(field in payload for field in ACTOR_FIELDS):
        filled.update(actor if actor is not None else SYSTEM_ACTOR)
    return filled
