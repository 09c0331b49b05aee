"""The embedded driver: performs what the core asks for and persists the run after every step.

A driver works on one connection. ``durable=True`` means the connection is not inside a caller's
``begin()`` block: the driver commits after every step (and claims a lease before driving), so a
process that dies loses at most the step in progress, and ``run_due_work`` continues the run from
its last finished step. ``durable=False`` runs inside the caller's transaction.

State keys the driver owns (the core ignores them): ``openStep`` (the step row of a step that spans
a wait, a retry delay or a child run), ``wait``, ``child`` and ``attempts`` (per-path step counts).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algaflow.clock import iso_millis, new_id, utcnow
from algaflow.errors import AlgaflowError
from algaflow.registry.nodes import NodeContext
from algaflow.store.run_tables import (
    TERMINAL_STATUSES,
    workflow_run_waits,
    workflow_runs,
    workflow_tasks,
)
from algaflow.store.workflows import get_version, get_workflow

from . import RUNTIME_SEMANTICS_VERSION, core, records
from .errors import StepFailure, normalize_error
from .invoke import DEFAULT_TIMEOUT_S, Invocation, call_with_timeout, invoke
from .program import Program, definition_hash
from .scopes import initial_scopes
from .waits import parse_instant


@dataclass
class DriverOptions:
    """Knobs with safe defaults; tests shorten ``action_timeout_s``."""

    action_timeout_s: float | None = DEFAULT_TIMEOUT_S
    lease_s: float = 300.0
    secret_resolver: Any = None
    owner: str = field(default_factory=lambda: f"pid-{os.getpid()}-{new_id()[:8]}")


@dataclass
class Launch:
    """Where a new run comes from (trigger fields of §3.1 step 8)."""

    trigger_type: str | None = None
    trigger_metadata: dict[str, Any] | None = None
    trigger_fire_key: str | None = None
    event_type: str | None = None
    source_payload_schema_ref: str | None = None
    trigger_mapping_applied: bool = False
    parent_run_id: str | None = None
    root_run_id: str | None = None


class Driver:
    def __init__(
        self,
        conn: Connection,
        registry: Any,
        *,
        durable: bool = False,
        options: DriverOptions | None = None,
    ) -> None:
        self.conn = conn
        self.registry = registry
        self.durable = durable
        self.options = options or DriverOptions()
        self._programs: dict[tuple[str, int], Program] = {}

    # --- creating runs ---------------------------------------------------------------------------

    def create_run(
        self,
        tenant_id: str,
        workflow: dict[str, Any],
        version: dict[str, Any],
        payload: Any,
        launch: Launch | None = None,
        *,
        failed: dict[str, Any] | None = None,
    ) -> str:
        """Insert a RUNNING run at its first step (or a FAILED one, with ``failed`` as error)."""
        launch = launch or Launch()
        now = utcnow()
        run_id = new_id()
        definition = version["definition_json"]
        digest = definition_hash(definition)
        meta: dict[str, Any] = {"triggerMappingApplied": launch.trigger_mapping_applied}
        if launch.source_payload_schema_ref:
            meta["sourcePayloadSchemaRef"] = launch.source_payload_schema_ref
        system = {
            "runId": run_id,
            "workflowId": workflow["workflow_id"],
            "workflowVersion": version["version"],
            "tenantId": tenant_id,
            "definitionHash": digest,
            "runtimeSemanticsVersion": RUNTIME_SEMANTICS_VERSION,
        }
        state = core.new_state(initial_scopes(payload, system=system, meta=meta))
        state["startedAt"] = iso_millis(now)
        self.conn.execute(
            workflow_runs.insert().values(
                run_id=run_id,
                tenant=tenant_id,
                workflow_id=workflow["workflow_id"],
                workflow_version=version["version"],
                status="FAILED" if failed else "RUNNING",
                node_path=None if failed else "root.steps[0]",
                input_json=payload,
                error_json=failed,
                state_json=None if failed else state,
                event_type=launch.event_type,
                source_payload_schema_ref=launch.source_payload_schema_ref,
                trigger_mapping_applied=launch.trigger_mapping_applied,
                trigger_type=launch.trigger_type,
                trigger_metadata_json=launch.trigger_metadata,
                trigger_fire_key=launch.trigger_fire_key,
                definition_hash=digest,
                runtime_semantics_version=RUNTIME_SEMANTICS_VERSION,
                parent_run_id=launch.parent_run_id,
                root_run_id=launch.root_run_id,
                started_at=now,
                completed_at=now if failed else None,
                updated_at=now,
            )
        )
        records.log(
            self.conn, tenant_id=tenant_id, run_id=run_id, level="INFO", message="Run started",
            at=now,
        )  # fmt: skip
        self._checkpoint()
        return run_id

    # --- driving ---------------------------------------------------------------------------------

    def drive(
        self,
        tenant_id: str,
        run_id: str,
        *,
        resume_parent: bool = True,
        now: datetime | None = None,
    ) -> str:
        """Run until the run waits or ends; returns its status. ``now`` judges lease expiry."""
        if self.durable and not self._claim(run_id, now or utcnow()):
            return records.load_run(self.conn, tenant_id, run_id)["status"]
        run = records.load_run(self.conn, tenant_id, run_id)
        if run["status"] != "RUNNING":
            return run["status"]
        try:
            program = self._program(run)
        except StepFailure as exc:
            self._finish(run, None, "FAILED", normalize_error(exc, "root", iso_millis(utcnow())))
            return self._after_finish(run, "FAILED", resume_parent)
        state = run["state_json"]
        status = self._loop(run, program, state)
        if status in TERMINAL_STATUSES:
            return self._after_finish(run, status, resume_parent)
        return status

    def _loop(self, run: dict[str, Any], program: Program, state: dict[str, Any]) -> str:
        while True:
            child = state.get("child")
            if child:
                status = self._await_child(run, program, state, child)
                if status != "RUNNING":
                    return status
                continue
            now = utcnow()
            plan = core.plan(program, state, now, secrets=self.options.secret_resolver)
            if plan.kind in ("done", "control"):
                transition = plan.transition
                assert transition is not None
            elif plan.kind == "wait" and not _due(plan, now):
                return self._open_wait(run, state, plan, now)
            elif plan.kind == "wait":  # a time.wait already due: no sleep, like Alga
                self._record_resolved_wait(run, plan, now)
                resumed = {**plan.request["payload"], "resumedAt": iso_millis(now)}
                transition = core.complete(program, state, plan.path, {"ok": resumed}, now)
            elif plan.kind == "child":
                state["child"] = {"path": plan.path, "runId": self._start_child(run, plan, now)}
                self._open_step(run, state, plan, now)
                self._save(run, state, plan.path, "RUNNING")
                continue
            else:
                outcome = self._perform(run, plan, now)
                transition = core.complete(program, state, plan.path, outcome, utcnow())
            status = self._record(run, program, plan, transition, now)
            if status != "RUNNING":
                return status

    def _perform(self, run: dict[str, Any], plan: core.Plan, now: datetime) -> dict[str, Any]:
        """Run an action or a node handler; every failure becomes ``{"error": ...}``."""
        try:
            if plan.kind == "action":
                return {"ok": self._call_action(run, plan.path, plan.request, now)}
            return {"ok": self._run_node(run, plan, now)}
        except Exception as exc:  # handlers must never crash the driver
            return {"error": normalize_error(exc, plan.path, iso_millis(utcnow()))}

    def _call_action(
        self, run: dict[str, Any], path: str, request: dict[str, Any], now: datetime
    ) -> Any:
        call = Invocation(
            tenant_id=run["tenant"],
            run_id=run["run_id"],
            step_path=path,
            action_id=request["actionId"],
            version=request["version"],
            args=request["input"],
            attempt=request.get("attempt", 1),
            explicit_key=request.get("idempotencyKey"),
            redactions=tuple(request.get("redactions") or ()),
            step_config=request.get("stepConfig"),
            expression_context=request.get("expressionContext"),
        )
        return invoke(
            self.conn, self.registry, call, now=now, timeout_s=self.options.action_timeout_s
        )

    def _run_node(self, run: dict[str, Any], plan: core.Plan, now: datetime) -> dict[str, Any]:
        request = plan.request
        node = self.registry.nodes.get(request["type"])
        if node is None or node.handler is None:
            raise StepFailure("ActionError", f"Unknown node type {request['type']}")
        config = node.parse_config(request["config"])

        def call_action(action_id: str, version: int, args: dict[str, Any]) -> Any:
            return self._call_action(
                run, plan.path, {"actionId": action_id, "version": version, "input": args}, now
            )

        context = NodeContext(
            run_id=run["run_id"],
            step_path=plan.path,
            tenant_id=run["tenant"],
            now_iso=iso_millis(now),
            call_action=call_action,
        )
        try:
            result = call_with_timeout(
                lambda: node.handler(request["envelope"], config, context),
                self.options.action_timeout_s,
            )
        except TimeoutError as exc:
            raise StepFailure("TimeoutError", f"Node {request['type']} {exc}") from None
        if not isinstance(result, dict):
            raise StepFailure("ActionError", f"Node {request['type']} did not return an envelope")
        return result

    # --- recording -------------------------------------------------------------------------------

    def _record(
        self,
        run: dict[str, Any],
        program: Program,
        plan: core.Plan,
        transition: core.Transition,
        started: datetime,
    ) -> str:
        """Project the step and persist the state; returns the run status afterwards."""
        state = transition.state
        now = utcnow()
        if transition.step_status and plan.path:
            opened = state.pop("openStep", None)
            if opened and opened["path"] == plan.path:
                records.finish_step(
                    self.conn, opened["id"], status=transition.step_status,
                    started_at=datetime.fromisoformat(opened["startedAt"]), completed_at=now,
                    error=transition.step_error,
                )  # fmt: skip
            else:
                records.insert_step(
                    self.conn, tenant_id=run["tenant"], run_id=run["run_id"], path=plan.path,
                    step_id=str((plan.step or {}).get("id", "")), status=transition.step_status,
                    attempt=self._next_attempt(state, plan.path), started_at=started,
                    completed_at=now, error=transition.step_error,
                )  # fmt: skip
        if transition.retry is not None:
            return self._schedule_retry(run, program, plan, state, transition.retry, started)
        if transition.run_status:
            self._finish(run, state, transition.run_status, transition.run_error)
            return transition.run_status
        if not self._save(run, state, core.current_path(program, state), "RUNNING"):
            return "CANCELED"
        return "RUNNING"

    def _next_attempt(self, state: dict[str, Any], path: str) -> int:
        attempts = state.setdefault("attempts", {})
        attempts[path] = attempts.get(path, 0) + 1
        return attempts[path]

    def _open_step(
        self, run: dict[str, Any], state: dict[str, Any], plan: core.Plan, now: datetime
    ) -> None:
        """A STARTED row for a step that outlives this call (wait, retry delay, child run)."""
        if (state.get("openStep") or {}).get("path") == plan.path:
            return
        row_id = records.insert_step(
            self.conn, tenant_id=run["tenant"], run_id=run["run_id"], path=plan.path,
            step_id=str((plan.step or {}).get("id", "")), status="STARTED",
            attempt=self._next_attempt(state, plan.path), started_at=now,
        )  # fmt: skip
        state["openStep"] = {"path": plan.path, "id": row_id, "startedAt": now.isoformat()}

    def _save(
        self, run: dict[str, Any], state: dict[str, Any], node_path: str | None, status: str
    ) -> bool:
        now = utcnow()
        lease = (
            {"lease_owner": self.options.owner,
             "lease_expires_at": now + timedelta(seconds=self.options.lease_s)}
            if self.durable and status == "RUNNING"
            else {"lease_owner": None, "lease_expires_at": None}
        )  # fmt: skip
        ok = records.update_run(
            self.conn, run["run_id"], only_if=("RUNNING",), state_json=state, node_path=node_path,
            status=status, error_json=None, updated_at=now, **lease,
        )  # fmt: skip
        self._checkpoint()
        return ok

    def _finish(
        self,
        run: dict[str, Any],
        state: dict[str, Any] | None,
        status: str,
        error: dict[str, Any] | None,
    ) -> None:
        now = utcnow()
        values: dict[str, Any] = {
            "status": status,
            "node_path": None,
            "completed_at": now,
            "updated_at": now,
            "error_json": error if status != "SUCCEEDED" else None,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        if state is not None:
            values["state_json"] = state
            values["final_vars_json"] = state["scopes"]["workflow"]
        records.update_run(self.conn, run["run_id"], only_if=("RUNNING", "WAITING"), **values)
        if status != "SUCCEEDED":
            level = "WARN" if status == "CANCELED" else "ERROR"
            records.log(
                self.conn, tenant_id=run["tenant"], run_id=run["run_id"], level=level,
                message=f"Run {status.lower()}", at=now, context=error,
            )  # fmt: skip
        self._checkpoint()

    def _after_finish(self, run: dict[str, Any], status: str, resume_parent: bool) -> str:
        if resume_parent and run.get("parent_run_id"):
            parent = records.load_run(self.conn, run["tenant"], run["parent_run_id"])
            if (parent["state_json"] or {}).get("child", {}).get("runId") == run["run_id"]:
                if parent["status"] == "WAITING":
                    records.update_run(self.conn, parent["run_id"], status="RUNNING")
                self.drive(run["tenant"], parent["run_id"])
        return status

    def _checkpoint(self) -> None:
        if self.durable:
            self.conn.commit()

    def _claim(self, run_id: str, now: datetime) -> bool:
        claimed = self.conn.execute(
            workflow_runs.update()
            .where(
                workflow_runs.c.run_id == run_id,
                workflow_runs.c.status == "RUNNING",
                sa.or_(
                    workflow_runs.c.lease_expires_at.is_(None),
                    workflow_runs.c.lease_expires_at < now,
                    workflow_runs.c.lease_owner == self.options.owner,
                ),
            )
            .values(
                lease_owner=self.options.owner,
                lease_expires_at=now + timedelta(seconds=self.options.lease_s),
            )
        ).rowcount
        self._checkpoint()
        return claimed == 1

    # --- programs, secrets -----------------------------------------------------------------------

    def _program(self, run: dict[str, Any]) -> Program:
        """The pinned version, refused when its definition no longer matches the run's hash."""
        key = (run["workflow_id"], run["workflow_version"])
        if key not in self._programs:
            try:
                version = get_version(self.conn, run["tenant"], *key)
            except AlgaflowError as exc:
                raise StepFailure("ValidationError", exc.message, code=exc.code) from None
            definition = version["definition_json"]
            if run["definition_hash"] and definition_hash(definition) != run["definition_hash"]:
                raise StepFailure(
                    "ValidationError",
                    "Workflow definition changed since the run started (definition hash mismatch)",
                    code="DEFINITION_HASH_MISMATCH",
                )
            self._programs[key] = Program(definition)
        return self._programs[key]

    # --- waits -----------------------------------------------------------------------------------

    def _open_wait(
        self, run: dict[str, Any], state: dict[str, Any], plan: core.Plan, now: datetime
    ) -> str:
        request = plan.request
        self._open_step(run, state, plan, now)
        wait_id = new_id()
        key = request["key"]
        if request["type"] == "human":
            key = self._create_task(run, plan.path, wait_id, request["task"], now)
            request["payload"]["taskId"] = key
        due = parse_instant(request["dueAt"]) if request["dueAt"] else None
        records.insert_wait(
            self.conn, wait_id=wait_id, tenant=run["tenant"], run_id=run["run_id"],
            step_path=plan.path, wait_type=request["type"], key=key,
            event_name=request["eventName"], timeout_at=due, payload=request["payload"],
            created_at=now,
        )  # fmt: skip
        state["wait"] = {"path": plan.path, "waitId": wait_id, "type": request["type"]}
        self._save(run, state, plan.path, "WAITING")
        return "WAITING"

    def _record_resolved_wait(self, run: dict[str, Any], plan: core.Plan, now: datetime) -> None:
        wait_id = records.insert_wait(
            self.conn, tenant=run["tenant"], run_id=run["run_id"], step_path=plan.path,
            wait_type="time", key=None, event_name=None,
            timeout_at=parse_instant(plan.request["dueAt"]), payload=plan.request["payload"],
            created_at=now,
        )  # fmt: skip
        records.close_wait(self.conn, wait_id, status="RESOLVED", at=now)

    def _create_task(
        self, run: dict[str, Any], path: str, wait_id: str, task: dict[str, Any], now: datetime
    ) -> str:
        task_id = new_id()
        self.conn.execute(
            workflow_tasks.insert().values(
                task_id=task_id, tenant=run["tenant"], run_id=run["run_id"], step_path=path,
                wait_id=wait_id, task_type=task["taskType"], title=task["title"],
                description=task["description"], status="PENDING",
                context_data=task["contextData"], created_at=now,
            )
        )  # fmt: skip
        return task_id

    def _schedule_retry(
        self,
        run: dict[str, Any],
        program: Program,
        plan: core.Plan,
        state: dict[str, Any],
        retry: dict[str, Any],
        started: datetime,
    ) -> str:
        """A retry is another attempt in the same step row; a delay is a durable ``retry`` wait."""
        self._open_step(run, state, plan, started)
        delay = retry["delayMs"]
        if delay <= 0:
            self._save(run, state, plan.path, "RUNNING")
            return "RUNNING"
        now = utcnow()
        due = now + timedelta(milliseconds=delay)
        wait_id = records.insert_wait(
            self.conn, tenant=run["tenant"], run_id=run["run_id"], step_path=plan.path,
            wait_type="retry", key=None, event_name=None, timeout_at=due,
            payload={"attempt": retry["attempt"], "delayMs": delay, "error": retry["error"]},
            created_at=now,
        )  # fmt: skip
        state["wait"] = {"path": plan.path, "waitId": wait_id, "type": "retry"}
        self._save(run, state, plan.path, "WAITING")
        return "WAITING"

    def resolve_wait(
        self, tenant_id: str, run_id: str, wait_id: str, outcome: dict[str, Any]
    ) -> bool:
        """Apply a wait's outcome to its run and make the run RUNNING again (not driven yet).

        False when the wait was already resolved (by another event, a timeout, a cancel).
        """
        now = utcnow()
        if not records.close_wait(self.conn, wait_id, status="RESOLVED", at=now):
            return False
        run = records.load_run(self.conn, tenant_id, run_id)
        state = run["state_json"]
        if run["status"] != "WAITING" or (state.get("wait") or {}).get("waitId") != wait_id:
            return False
        try:
            program = self._program(run)
        except StepFailure as exc:
            error = normalize_error(exc, run["node_path"] or "root", iso_millis(now))
            self._finish(run, state, "FAILED", error)
            self._after_finish(run, "FAILED", True)
            return True
        wait = state.pop("wait")
        records.update_run(self.conn, run_id, status="RUNNING")
        run["status"] = "RUNNING"
        if wait["type"] == "retry":  # the next plan() makes the next attempt
            self._save(run, state, wait["path"], "RUNNING")
            return True
        if wait["type"] == "time" and "error" not in outcome:
            outcome = {"ok": {**run_wait_payload(self.conn, wait_id), "resumedAt": iso_millis(now)}}
        step = program.step(wait["path"]) or {}
        plan = core.Plan("wait", wait["path"], step)
        transition = core.complete(program, state, wait["path"], outcome, now)
        self._record(run, program, plan, transition, now)
        if transition.run_status:
            self._after_finish(run, transition.run_status, True)
        return True

    # --- child runs ------------------------------------------------------------------------------

    def _start_child(self, run: dict[str, Any], plan: core.Plan, now: datetime) -> str | None:
        request = plan.request
        try:
            workflow = get_workflow(self.conn, run["tenant"], request["workflowId"])
            version = get_version(
                self.conn, run["tenant"], workflow["workflow_id"], request["workflowVersion"]
            )
        except AlgaflowError:
            return None
        launch = Launch(
            trigger_metadata={
                "parentRunId": run["run_id"],
                "rootRunId": run["root_run_id"] or run["run_id"],
                "parentStepPath": plan.path,
            },
            parent_run_id=run["run_id"],
            root_run_id=run["root_run_id"] or run["run_id"],
        )
        return self.create_run(run["tenant"], workflow, version, request["input"], launch)

    def _await_child(
        self, run: dict[str, Any], program: Program, state: dict[str, Any], child: dict[str, Any]
    ) -> str:
        """Drive the child inline; when it has ended, complete the parent's step with its result."""
        path = child["path"]
        step = program.step(path) or {}
        if child["runId"] is None:
            outcome = {"error": _child_missing(step, path)}
        else:
            status = self.drive(run["tenant"], child["runId"], resume_parent=False)
            if status not in TERMINAL_STATUSES:
                self._save(run, state, path, "WAITING")
                return "WAITING"
            outcome = child_outcome(
                records.load_run(self.conn, run["tenant"], child["runId"]), step
            )
        state.pop("child")
        plan = core.Plan("child", path, step)
        transition = core.complete(program, state, path, outcome, utcnow())
        return self._record(run, program, plan, transition, utcnow())


def _due(plan: core.Plan, now: datetime) -> bool:
    due = plan.request.get("dueAt")
    return plan.request["type"] == "time" and parse_instant(due) <= now


def run_wait_payload(conn: Connection, wait_id: str) -> dict[str, Any]:
    payload = conn.execute(
        sa.select(workflow_run_waits.c.payload).where(workflow_run_waits.c.wait_id == wait_id)
    ).scalar()
    return dict(payload or {})


def _child_missing(step: dict[str, Any], path: str) -> dict[str, Any]:
    return {
        "category": "ActionError",
        "code": "CHILD_WORKFLOW_NOT_FOUND",
        "message": (
            f"Child workflow definition not found: {step.get('workflowId')}"
            f"@{step.get('workflowVersion')}"
        ),
        "nodePath": path,
        "at": iso_millis(utcnow()),
    }


def child_outcome(child: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    """``{"ok": final scopes}`` for a SUCCEEDED child; a ChildWorkflowError otherwise."""
    state = child["state_json"] or {}
    if child["status"] == "SUCCEEDED":
        return {"ok": copy.deepcopy(state.get("scopes") or {})}
    cause = child["error_json"] or {}
    category = "Cancellation" if child["status"] == "CANCELED" else "ChildWorkflowError"
    return {
        "error": {
            "category": category,
            "message": "Child workflow execution failed",
            "details": {
                "workflowId": step.get("workflowId"),
                "workflowVersion": step.get("workflowVersion"),
                "childRunId": child["run_id"],
                "rootRunId": child["root_run_id"],
                "cause": cause,
            },
            "nodePath": (child.get("trigger_metadata_json") or {}).get("parentStepPath"),
            "at": iso_millis(utcnow()),
        }
    }
