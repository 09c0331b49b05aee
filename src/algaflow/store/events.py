"""The repository of received events: all SQL on ``workflow_runtime_events``.

An event id is its sender's idempotency key, unique per tenant: recording it twice is a no-op.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from algaflow.store.inserts import insert_ignore
from algaflow.store.run_tables import workflow_runtime_events as events_t


def record_event(
    conn: Connection,
    *,
    tenant: str,
    event_id: str,
    event_name: str,
    correlation_key: str | None,
    payload: Any,
    payload_schema_ref: str | None,
    at: datetime,
) -> bool:
    """Record a received event; False when the tenant already has one with this id."""
    return insert_ignore(
        conn, events_t, ("tenant", "event_id"), tenant=tenant, event_id=event_id,
        event_name=event_name, correlation_key=correlation_key, payload=payload,
        payload_schema_ref=payload_schema_ref, created_at=at,
    )  # fmt: skip


def mark_processed(
    conn: Connection,
    tenant: str,
    event_id: str,
    *,
    at: datetime,
    matched_run_id: str | None,
    matched_wait_id: str | None,
    error_message: str | None,
) -> None:
    """Note what the event did: the run and wait it matched, or why it matched nothing."""
    conn.execute(
        events_t.update()
        .where(events_t.c.tenant == tenant, events_t.c.event_id == event_id)
        .values(
            processed_at=at,
            matched_run_id=matched_run_id,
            matched_wait_id=matched_wait_id,
            error_message=error_message,
        )
    )
