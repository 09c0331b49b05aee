"""Correlation keys of an event (§7.2): the explicit key, else values at known payload paths."""

from __future__ import annotations

import json
import os
from typing import Any

from algaflow.kernel.jsvalues import js_string

DEFAULT_PATHS: dict[str, list[str]] = {
    "*": ["ticketId", "clientId", "invoiceId", "projectId", "paymentId"],
    **{
        name: ["ticketId"]
        for name in (
            "TICKET_CREATED",
            "TICKET_UPDATED",
            "TICKET_CLOSED",
            "TICKET_COMMENT_ADDED",
            "TICKET_RESPONSE_STATE_CHANGED",
        )
    },
    **{
        name: ["invoiceId", "clientId"]
        for name in ("INVOICE_FINALIZED", "INVOICE_SENT", "INVOICE_STATUS_CHANGED")
    },
}
PATHS_ENV = "WORKFLOW_RUNTIME_V2_EVENT_CORRELATION_PATHS_JSON"


def correlation_paths() -> dict[str, list[str]]:
    """The defaults, replaced entirely by the environment variable when it holds a JSON object."""
    raw = os.environ.get(PATHS_ENV)
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            return DEFAULT_PATHS
        if isinstance(parsed, dict):
            return parsed
    return DEFAULT_PATHS


def correlation_keys(event_name: str, payload: Any, explicit: str | None = None) -> list[str]:
    """Every key the event can resume a wait with; the first is the primary one."""
    if isinstance(explicit, str) and explicit.strip():
        return [explicit.strip()]
    paths = correlation_paths()
    keys: list[str] = []
    for path in [*paths.get(event_name, []), *paths.get("*", [])]:
        value = _read(payload, path)
        if value is None:
            continue
        text = js_string(value).strip()
        if text and text not in keys:
            keys.append(text)
    return keys


def _read(payload: Any, path: str) -> Any:
    node = payload
    for part in str(path).split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node
