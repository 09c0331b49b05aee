"""Due work: what ``algaflow worker`` and ``serve``'s background thread run, and the driving step
every run use case ends with.

Runs are always driven durably: on a connection of their own, with a commit after every step and
a lease on the run, so a process that dies leaves each run at its last finished step for the next
pass to continue. A pass needs no tenant: it serves every tenant's due runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from algaflow.kernel.clock import iso_millis, utcnow
from algaflow.registry import Registry
from algaflow.runtime.core.errors import normalize_error
from algaflow.runtime.core.waits import timeout_error
from algaflow.runtime.embedded.driver import Driver, DriverOptions
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store import runs, waits
from algaflow.store.engine import write_connection
from algaflow.store.run_rows import RunRow, WaitRow

log = logging.getLogger("algaflow.runtime")


def drive_runs(
    uow: UnitOfWork,
    tenant_id: str,
    run_ids: Sequence[str],
    *,
    registry: Registry,
    options: DriverOptions | None = None,
) -> None:
    """Execute recorded RUNNING runs until each waits or ends, committing after every step.

    The driver commits on its own connection (not a ``writing()`` block), so each step is
    durable as soon as it is done and no write lock is held while an action handler runs.
    """
    if not run_ids:
        return
    with write_connection(uow.engine) as conn:
        driver = Driver(conn, registry, durable=True, options=options)
        for run_id in run_ids:
            driver.drive(tenant_id, run_id)
        conn.commit()


def run_due_work(
    uow: UnitOfWork,
    *,
    registry: Registry,
    now: datetime | None = None,
    options: DriverOptions | None = None,
) -> int:
    """Resume due time and retry waits, time out event waits, continue RUNNING runs nobody drives
    (their process died) and parents whose child ended while nobody was there to resume them.
    Returns how many runs it touched.

    A run whose work fails is logged and skipped: one run never stops the pass for the others.
    """
    now = now or utcnow()
    with write_connection(uow.engine) as conn:
        driver = Driver(conn, registry, durable=True, options=options)
        touched = 0
        for wait in _due_waits(conn, now):

            def resume_due(wait: WaitRow = wait) -> int:
                return _resume_due(driver, wait, now)

            touched += _isolated(conn, wait.run_id, resume_due)
        for run in _orphans(conn, now):

            def drive(run: RunRow = run) -> int:
                driver.drive(run.tenant, run.run_id, now=now)
                return 1

            touched += _isolated(conn, run.run_id, drive)
        for parent in _parents_of_ended_children(conn):

            def resume(parent: dict[str, str] = parent) -> int:
                return int(driver.resume_parent(parent["tenant"], parent["child"]))

            touched += _isolated(conn, parent["run_id"], resume)
        conn.commit()
    return touched


def _due_waits(conn: Connection, now: datetime) -> list[WaitRow]:
    due = waits.due_waits(conn, now)
    conn.commit()
    return due


def _orphans(conn: Connection, now: datetime) -> list[RunRow]:
    """RUNNING runs without a live lease: their driver died (or never came)."""
    found = runs.orphaned_runs(conn, now)
    conn.commit()
    return found


def _isolated(conn: Connection, run_id: str, work: Callable[[], int]) -> int:
    """``work()``, or 0 when it raised: logged, rolled back, and the pass goes on."""
    try:
        return work()
    except Exception:
        log.exception("run_due_work: run %s failed; going on with the others", run_id)
        conn.rollback()
        return 0


def _resume_due(driver: Driver, wait: WaitRow, now: datetime) -> int:
    """A due timer or retry delay resumes its run; a due event wait times out."""
    outcome: dict[str, Any] = {"ok": {}}
    if wait.wait_type == "event":
        failure = timeout_error(wait.payload or {})
        outcome = {"error": normalize_error(failure, wait.step_path, iso_millis(now))}
    to_drive = driver.resolve_wait(wait.tenant, wait.run_id, wait.wait_id, outcome)
    for run_id in to_drive or []:
        driver.drive(wait.tenant, run_id)
    return 0 if to_drive is None else 1


def _parents_of_ended_children(conn: Connection) -> list[dict[str, str]]:
    """WAITING parents whose awaited child has ended (a process died in between).

    A parent awaits its newest child: one with ended children and no active child is a
    candidate; its state names the child it awaits, which must have ended.
    """
    rows = runs.waiting_parents_of_ended_children(conn)
    conn.commit()
    found = []
    for row in rows:
        state = row.state_json or {}
        child = (state.get("child") or {}).get("runId")
        if child and not state.get("wait"):
            found.append({"run_id": row.run_id, "tenant": row.tenant, "child": child})
    return found
