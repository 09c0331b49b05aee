"""Human tasks: list them, complete one (its run then resumes with ``vars.event = output``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from algaflow.kernel.clock import utcnow
from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import Registry
from algaflow.runtime.embedded.driver import DriverOptions
from algaflow.runtime.embedded.views import task_view
from algaflow.services.backends import Handoff, RunBackend, backend_of, execute_all
from algaflow.services.run_inputs import check_storable
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store import waits
from algaflow.store.types import canonical_uuid


def list_tasks(
    uow: UnitOfWork, tenant_id: str, *, status: str | None = "PENDING", run_id: str | None = None
) -> list[dict[str, Any]]:
    """Oldest first; a ``run_id`` that is not a UUID matches no task."""
    run_key = None
    if run_id is not None:
        run_key = canonical_uuid(run_id)
        if run_key is None:
            return []
    with uow.reading() as conn:
        found = waits.list_tasks(conn, tenant_id, status=status, run_id=run_key)
    return [task_view(task) for task in found]


def complete_task(
    uow: UnitOfWork,
    tenant_id: str,
    task_id: str,
    output: Any,
    *,
    registry: Registry,
    options: DriverOptions | None = None,
    wait: bool = True,
    backend: RunBackend | None = None,
) -> dict[str, Any]:
    """Complete a PENDING task, then hand its run to its backend; returns the completed task.

    With ``wait`` (the default) the run goes on in this call until it waits or ends; without,
    workers continue it.
    """
    task_key = canonical_uuid(task_id)
    if task_key is None:
        raise _task_not_found(task_id)
    output = {} if output is None else output
    check_storable(output=output)
    with uow.writing() as conn:
        task, handoffs = _complete(
            conn, tenant_id, task_id, task_key, output, registry, options, backend
        )
    execute_all(uow, tenant_id, handoffs, registry=registry, options=options, wait=wait,
                backend=backend)  # fmt: skip
    return task


def _complete(
    conn: Connection,
    tenant_id: str,
    task_id: str,
    task_key: str,
    output: Any,
    registry: Registry,
    options: DriverOptions | None,
    backend: RunBackend | None,
) -> tuple[dict[str, Any], dict[str, Handoff]]:
    """The completed task and what its resolved wait leaves to its run's backend."""
    task = waits.get_task(conn, tenant_id, task_key)
    if task is None:
        raise _task_not_found(task_id)
    if task.status != "PENDING":
        raise AlgaflowError(
            "TASK_ALREADY_COMPLETED",
            f"Task is already {task.status}",
            details={"taskId": task_key, "status": task.status},
        )
    if not mark_task_completed(conn, task_key, output):  # completed by a concurrent call
        raise AlgaflowError("TASK_ALREADY_COMPLETED", "Task is already completed",
                            details={"taskId": task_key})  # fmt: skip
    handoffs: dict[str, Handoff] = {}
    if task.wait_id:
        outcome = {
            "ok": {"taskId": task_key, "eventName": "HUMAN_TASK_COMPLETED", "response": output}
        }
        owner = backend_of(conn, tenant_id, task.run_id, backend)
        handoff = owner.resolve_wait(
            conn, registry, tenant_id, task.run_id, task.wait_id, outcome, options
        )
        if handoff is not None:
            handoffs[owner.name] = handoff
    completed = waits.get_task(conn, tenant_id, task_key)
    assert completed is not None  # read in this transaction above
    return task_view(completed), handoffs


def mark_task_completed(conn: Connection, task_id: str, response: Any) -> bool:
    """Complete a PENDING task row; False when it was no longer PENDING."""
    return waits.complete_pending_task(conn, task_id, response, at=utcnow())


def _task_not_found(task_id: Any) -> AlgaflowError:
    return AlgaflowError(
        "TASK_NOT_FOUND", f"Task not found: {task_id}", details={"taskId": task_id}
    )
