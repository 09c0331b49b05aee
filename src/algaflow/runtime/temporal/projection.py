"""What a Temporal run projects into algaflow's run tables, collected inside the workflow.

The workflow cannot write to the database (replays would write again), so it records the same
rows the embedded driver writes (step rows, their log lines, waits, tasks, the run row) as plain
JSON operations with ids and times it chose deterministically, and an activity applies a batch in
one transaction. Ids and instants come from the clock seam, which the workflow points at
``workflow.uuid4()`` and ``workflow.now()``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from algaflow.kernel.clock import new_id
from algaflow.runtime import core
from algaflow.runtime.embedded.log_lines import step_log_line

Op = dict[str, Any]


class Projection:
    """The pending operations of one run, and the step bookkeeping the driver keeps in its state
    (``openStep``, per-path ``attempts``), so rows and lines match the embedded backend's."""

    def __init__(self, tenant_id: str, run_id: str) -> None:
        self.tenant_id, self.run_id = tenant_id, run_id
        self.ops: list[Op] = []
        self._last_line: datetime | None = None

    def take(self) -> list[Op]:
        ops, self.ops = self.ops, []
        return ops

    # --- steps -----------------------------------------------------------------------------------

    def record(
        self,
        state: dict[str, Any],
        plan: core.StepRef,
        transition: core.Transition,
        started: datetime,
        now: datetime,
    ) -> None:
        """The step's row and lines for a transition that ended it (no-op otherwise)."""
        if not (transition.step_status and plan.path):
            return
        opened = state.pop("openStep", None)
        if opened and opened["path"] == plan.path:
            row_id = opened["id"]
            self.ops.append(
                {"op": "finish_step", "row_id": row_id, "status": str(transition.step_status),
                 "started_at": opened["startedAt"], "completed_at": now.isoformat(),
                 "error": transition.step_error}
            )  # fmt: skip
        else:
            attempt = _next_attempt(state, plan.path)
            row_id = new_id()
            self._insert_step(
                row_id, plan, str(transition.step_status), attempt, started, now,
                transition.step_error,
            )  # fmt: skip
            self.line(plan, row_id, "STARTED", started, attempt=attempt)
        self.line(plan, row_id, str(transition.step_status), now, error=transition.step_error)

    def open_step(self, state: dict[str, Any], plan: core.StepRef, now: datetime) -> None:
        """A STARTED row for a step that outlives one call (wait, retry delay, child run)."""
        path = plan.path
        if path is None or (state.get("openStep") or {}).get("path") == path:
            return
        attempt = _next_attempt(state, path)
        row_id = new_id()
        self._insert_step(row_id, plan, "STARTED", attempt, now, None, None)
        state["openStep"] = {"path": path, "id": row_id, "startedAt": now.isoformat()}
        self.line(plan, row_id, "STARTED", now, attempt=attempt)

    def _insert_step(
        self,
        row_id: str,
        plan: core.StepRef,
        status: str,
        attempt: int,
        started: datetime,
        completed: datetime | None,
        error: dict[str, Any] | None,
    ) -> None:
        self.ops.append(
            {"op": "insert_step", "row_id": row_id, "path": plan.path,
             "step_id": str((plan.step or {}).get("id", "")), "status": status,
             "attempt": attempt, "started_at": started.isoformat(),
             "completed_at": completed.isoformat() if completed else None, "error": error}
        )  # fmt: skip

    def line(
        self,
        plan: core.StepRef,
        row_id: str,
        status: str,
        at: datetime,
        *,
        attempt: int | None = None,
        error: dict[str, Any] | None = None,
        delay_ms: int | None = None,
    ) -> None:
        step = plan.step or {}
        line = step_log_line(
            definition_step_id=str(step.get("id", "")), step_type=step.get("type"),
            status=status, attempt=attempt, error=error, delay_ms=delay_ms,
        )  # fmt: skip
        self.log(line.level, line.message, at, step_id=row_id, step_path=plan.path,
                 context=line.context)  # fmt: skip

    def log(
        self,
        level: str,
        message: str,
        at: datetime,
        *,
        step_id: str | None = None,
        step_path: str | None = None,
        context: Any = None,
    ) -> None:
        # workflow.now() stands still within a workflow task: lines keep their order by time
        if self._last_line is not None and at <= self._last_line:
            at = self._last_line + timedelta(microseconds=1)
        self._last_line = at
        self.ops.append(
            {"op": "log", "log_id": new_id(), "level": level, "message": message,
             "at": at.isoformat(), "step_id": step_id, "step_path": step_path, "context": context}
        )  # fmt: skip

    # --- waits and tasks -------------------------------------------------------------------------

    def open_wait(
        self,
        plan: core.StepRef,
        wait_id: str,
        wait_type: str,
        now: datetime,
        *,
        key: str | None = None,
        event_name: str | None = None,
        due_at: datetime | None = None,
        payload: Any = None,
    ) -> None:
        self.ops.append(
            {"op": "insert_wait", "wait_id": wait_id, "path": plan.path, "type": wait_type,
             "key": key, "event_name": event_name,
             "due_at": None if due_at is None else due_at.isoformat(), "payload": payload,
             "at": now.isoformat()}
        )  # fmt: skip

    def close_wait(self, wait_id: str, now: datetime) -> None:
        self.ops.append({"op": "close_wait", "wait_id": wait_id, "at": now.isoformat()})

    def open_task(
        self, plan: core.StepRef, wait_id: str, task: core.HumanTask, now: datetime
    ) -> str:
        task_id = new_id()
        self.ops.append(
            {"op": "insert_task", "task_id": task_id, "wait_id": wait_id, "path": plan.path,
             "task_type": task.task_type, "title": task.title, "description": task.description,
             "context_data": task.context_data, "at": now.isoformat()}
        )  # fmt: skip
        return task_id

    # --- the run row -----------------------------------------------------------------------------

    def save(
        self, state: dict[str, Any], node_path: str | None, status: str, now: datetime
    ) -> None:
        """The run row as it stands (only the last one of a batch matters)."""
        self.ops = [op for op in self.ops if op["op"] != "save"]
        self.ops.append(
            {"op": "save", "state": state, "node_path": node_path, "status": status,
             "at": now.isoformat()}
        )  # fmt: skip

    def finish(
        self, state: dict[str, Any], status: str, error: dict[str, Any] | None, now: datetime
    ) -> None:
        self.ops = [op for op in self.ops if op["op"] != "save"]
        self.ops.append(
            {"op": "finish", "state": state, "status": status,
             "error": error if status != "SUCCEEDED" else None, "at": now.isoformat()}
        )  # fmt: skip
        if status != "SUCCEEDED":
            where = (error or {}).get("nodePath")
            level = "WARN" if status == "CANCELED" else "ERROR"
            self.log(level, f"Run {status.lower()}", now, context=error,
                     step_path=where if isinstance(where, str) else None)  # fmt: skip


def _next_attempt(state: dict[str, Any], path: str) -> int:
    attempts = state.setdefault("attempts", {})
    attempts[path] = attempts.get(path, 0) + 1
    return int(attempts[path])
