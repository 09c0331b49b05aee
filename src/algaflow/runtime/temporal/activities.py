"""The activities of a Temporal run: everything that touches the database or runs handlers.

Actions and node handlers run exactly as on the embedded backend (the driver's ``perform``: the
same invocation records, idempotency keys, timeouts, and ``$secret`` values resolved here, in the
activity, so they never reach the workflow's history). Activities take only their resolved input,
never the run's whole scope, and answer plain JSON.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from temporalio import activity

from algaflow.kernel.clock import iso_millis, utcnow
from algaflow.kernel.errors import AlgaflowError
from algaflow.kernel.jsonb import jsonb_key_order
from algaflow.runtime import core
from algaflow.runtime.core.errors import StepFailure, normalize_error
from algaflow.runtime.embedded.driver import Driver, DriverOptions, Launch, child_outcome
from algaflow.store import runs, waits
from algaflow.store.engine import write_connection
from algaflow.store.run_rows import ACTIVE_STATUSES
from algaflow.store.workflows import get_version, get_workflow

TEMPORAL = "temporal"
HEARTBEAT_EVERY_S = 2.0
T = TypeVar("T")


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _maybe_at(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class Activities:
    """Bound to one engine and registry (a worker process's)."""

    def __init__(self, engine: Engine, registry: Any, options: DriverOptions | None = None):
        self.engine, self.registry = engine, registry
        self.options = options or DriverOptions()

    def all(self) -> list[Any]:
        return [
            self.load_run, self.perform, self.project, self.fail_run, self.close_wait,
            self.create_child, self.child_outcome,
        ]  # fmt: skip

    def _driver(self, conn: Any) -> Driver:
        return Driver(conn, self.registry, durable=True, options=self.options)

    @activity.defn(name="algaflow.load_run")
    def load_run(self, tenant_id: str, run_id: str) -> dict[str, Any]:
        """The run's status, state and pinned definition (``error`` when it cannot run)."""
        with write_connection(self.engine) as conn:
            run = runs.load_run(conn, tenant_id, run_id)
            answer: dict[str, Any] = {"status": run.status, "state": run.state_json}
            if run.status in ACTIVE_STATUSES:
                try:
                    answer["definition"] = self._driver(conn).program(run).definition
                except StepFailure as exc:
                    where = run.node_path or "root"
                    answer["error"] = normalize_error(exc, where, iso_millis(utcnow()))
            conn.commit()
        return answer

    @activity.defn(name="algaflow.perform")
    def perform(
        self, tenant_id: str, run_id: str, kind: str, path: str, step: Any, request: Any, now: str
    ) -> dict[str, Any]:
        """Call an action or run a node handler; ``{"ok": value}`` or ``{"error": error}``.

        Keys come back in JSONB order first: a ``transform.assign`` runs its map in that order."""
        step, request = jsonb_key_order(step), jsonb_key_order(request)
        plan: core.CallAction | core.RunNode
        if kind == "action":
            secrets = tuple((str(p), str(n)) for p, n in request.pop("secrets"))
            plan = core.CallAction(path, step, core.ActionRequest(**request, secrets=secrets))
        else:
            plan = core.RunNode(path, step, core.NodeRequest(**request))

        def work() -> core.Outcome:
            with write_connection(self.engine) as conn:
                run = runs.load_run(conn, tenant_id, run_id)
                done = self._driver(conn).perform(run, plan, datetime.fromisoformat(now))
                conn.commit()
            return done

        outcome = _heartbeating(work)
        if isinstance(outcome, core.Failed):
            return {"error": outcome.error}
        return {"ok": outcome.value}

    @activity.defn(name="algaflow.project")
    def project(self, tenant_id: str, run_id: str, ops: list[dict[str, Any]]) -> None:
        """Apply a batch of projection operations in one transaction. A batch applied before (its
        answer was lost and the activity ran again) is recognised by its ids and skipped."""
        with write_connection(self.engine) as conn:
            try:
                for op in ops:
                    _apply(conn, tenant_id, run_id, op)
                conn.commit()
            except sa.exc.IntegrityError:
                conn.rollback()

    @activity.defn(name="algaflow.fail_run")
    def fail_run(self, tenant_id: str, run_id: str, error: dict[str, Any]) -> None:
        """End the run FAILED with ``error``, its open waits, tasks and steps closed: what the
        embedded driver does when recording a step fails (a run never stays active for good)."""
        with write_connection(self.engine) as conn:
            run = runs.load_run(conn, tenant_id, run_id)
            now = utcnow()
            error = {**error, "nodePath": run.node_path or "root", "at": iso_millis(now)}
            runs.close_open_records(conn, run_id, at=now, step_status="FAILED", error=error)
            if runs.update_run(
                conn, run_id, only_if=ACTIVE_STATUSES, status="FAILED", node_path=None,
                completed_at=now, updated_at=now, error_json=error,
            ):  # fmt: skip
                runs.log(conn, tenant_id=tenant_id, run_id=run_id, level="ERROR",
                         message="Run failed", at=now, context=error)  # fmt: skip
            conn.commit()

    @activity.defn(name="algaflow.close_wait")
    def close_wait(self, wait_id: str) -> bool:
        """Close a wait that timed out; False when an event resolved it first."""
        with write_connection(self.engine) as conn:
            closed = waits.close_wait(conn, wait_id, status="RESOLVED", at=utcnow())
            conn.commit()
        return closed

    @activity.defn(name="algaflow.create_child")
    def create_child(
        self, tenant_id: str, parent_id: str, path: str, request: dict[str, Any], child_id: str
    ) -> str | None:
        """The child run's row (started by the parent workflow as a child workflow), or None
        when its workflow or version does not exist. Idempotent by ``child_id``."""
        with write_connection(self.engine) as conn:
            existing = runs.run_status(conn, child_id)
            if existing is not None:
                return child_id
            parent = runs.load_run(conn, tenant_id, parent_id)
            try:
                workflow = get_workflow(conn, tenant_id, request["workflow_id"])
                version = get_version(
                    conn, tenant_id, workflow.workflow_id, request["workflow_version"]
                )
            except AlgaflowError:
                return None
            root = parent.root_run_id or parent.run_id
            launch = Launch(
                trigger_metadata={"parentRunId": parent_id, "rootRunId": root,
                                  "parentStepPath": path},
                parent_run_id=parent_id, root_run_id=root, engine=TEMPORAL,
            )  # fmt: skip
            driver = Driver(conn, self.registry)
            made = driver.create_run(
                tenant_id, workflow, version, request["input"], launch, run_id=child_id
            )
            runs.mark_dispatched(conn, [made], at=utcnow())
            conn.commit()
        return made

    @activity.defn(name="algaflow.child_outcome")
    def child_outcome(self, tenant_id: str, child_id: str, step: Any) -> dict[str, Any]:
        with write_connection(self.engine) as conn:
            outcome = child_outcome(runs.load_run(conn, tenant_id, child_id), step)
            conn.commit()
        if isinstance(outcome, core.Failed):
            return {"error": outcome.error}
        return {"ok": outcome.value}


def _heartbeating(work: Callable[[], T]) -> T:
    """``work()`` on a helper thread while this activity heartbeats, so a worker that dies in
    the middle of a long handler is noticed in seconds (the heartbeat timeout), not minutes."""
    with ThreadPoolExecutor(1, thread_name_prefix="algaflow-perform") as pool:
        future = pool.submit(contextvars.copy_context().run, work)
        while True:
            try:
                return future.result(timeout=HEARTBEAT_EVERY_S)
            except FutureTimeout:
                if not activity.info().is_local:  # a local activity has no heartbeats
                    activity.heartbeat()


def _apply(conn: Any, tenant_id: str, run_id: str, op: dict[str, Any]) -> None:
    kind = op["op"]
    if kind == "insert_step":
        runs.insert_step(
            conn, tenant_id=tenant_id, run_id=run_id, path=op["path"], step_id=op["step_id"],
            status=op["status"], attempt=op["attempt"], started_at=_at(op["started_at"]),
            completed_at=_maybe_at(op["completed_at"]), error=op["error"], row_id=op["row_id"],
        )  # fmt: skip
    elif kind == "finish_step":
        runs.finish_step(
            conn, op["row_id"], status=op["status"], started_at=_at(op["started_at"]),
            completed_at=_at(op["completed_at"]), error=op["error"],
        )  # fmt: skip
    elif kind == "log":
        row = runs.log_row(
            tenant_id=tenant_id, run_id=run_id, level=op["level"], message=op["message"],
            at=_at(op["at"]), step_id=op["step_id"], step_path=op["step_path"],
            context=op["context"],
        )  # fmt: skip
        runs.insert_logs(conn, [{**row, "log_id": op["log_id"]}])
    elif kind == "insert_wait":
        waits.insert_wait(
            conn, wait_id=op["wait_id"], tenant=tenant_id, run_id=run_id, step_path=op["path"],
            wait_type=op["type"], key=op["key"], event_name=op["event_name"],
            timeout_at=_maybe_at(op["due_at"]), payload=op["payload"], created_at=_at(op["at"]),
        )  # fmt: skip
    elif kind == "close_wait":
        waits.close_wait(conn, op["wait_id"], status="RESOLVED", at=_at(op["at"]))
    elif kind == "insert_task":
        waits.insert_task(
            conn, tenant=tenant_id, run_id=run_id, step_path=op["path"], wait_id=op["wait_id"],
            task_type=op["task_type"], title=op["title"], description=op["description"],
            context_data=op["context_data"], created_at=_at(op["at"]), task_id=op["task_id"],
        )  # fmt: skip
    elif kind == "save":
        runs.update_run(
            conn, run_id, only_if=ACTIVE_STATUSES, state_json=op["state"],
            node_path=op["node_path"], status=op["status"], error_json=None,
            updated_at=_at(op["at"]),
        )  # fmt: skip
    elif kind == "finish":
        state = op["state"]
        runs.update_run(
            conn, run_id, only_if=ACTIVE_STATUSES, status=op["status"], node_path=None,
            completed_at=_at(op["at"]), updated_at=_at(op["at"]), error_json=op["error"],
            state_json=state, final_vars_json=state["scopes"]["workflow"],
        )  # fmt: skip
    else:
        raise ValueError(f"unknown projection operation {kind!r}")
