"""The embedded driver: performs what the core asks for and persists the run after every step.

A driver works on one connection. ``durable=True`` means the connection is not inside a caller's
``begin()`` block (use :func:`algaflow.store.engine.write_connection`): the driver claims a lease
before driving, commits after every step and never holds a transaction open while a handler runs,
so a process that dies loses at most the step in progress and ``run_due_work`` continues the run
from its last finished step. Every write to a run checks that this driver still holds its lease;
when it does not (the run was canceled, or its lease expired and another process took it over)
the driver stops driving it.

``durable=False`` is the in-transaction mode the services use to create runs and resolve waits
as part of their own transaction: the driver never commits, each applied wait is a savepoint and
no lease is taken. It cannot drive: the runs it hands back are driven durably afterwards.

A step that raises anything unexpected (a bug, a value the database refuses) is rolled back and
the run ends FAILED with ``INTERNAL_ERROR``: a run is never left RUNNING to fail again on every
lease takeover.

State keys the driver owns (the core ignores them): ``openStep`` (the step row of a step that spans
a wait, a retry delay or a child run), ``wait``, ``child`` and ``attempts`` (per-path step counts).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from algaflow.expressions import evaluation_time
from algaflow.kernel.clock import iso_millis, new_id, utcnow
from algaflow.kernel.errors import AlgaflowError
from algaflow.registry.nodes import NodeContext
from algaflow.runtime import RUNTIME_SEMANTICS_VERSION, core
from algaflow.runtime.core.errors import (
    StepFailure,
    ensure_storable,
    internal_error,
    normalize_error,
    storable_error,
)
from algaflow.runtime.core.program import Program, definition_hash
from algaflow.runtime.core.scopes import initial_scopes
from algaflow.runtime.core.waits import parse_instant
from algaflow.store import runs, waits
from algaflow.store.connection import Connection
from algaflow.store.run_rows import ACTIVE_STATUSES, TERMINAL_STATUSES, RunRow
from algaflow.store.workflow_rows import VersionRow, WorkflowRow
from algaflow.store.workflows import get_version, get_workflow

from .invoke import DEFAULT_TIMEOUT_S, Invocation, call_with_timeout, invoke
from .log_lines import step_log_line
from .secrets import SettingsSecretResolver

log = logging.getLogger("algaflow.runtime")


@dataclass
class DriverOptions:
    """Knobs with safe defaults; tests shorten ``action_timeout_s``."""

    action_timeout_s: float | None = DEFAULT_TIMEOUT_S
    lease_s: float = 300.0
    # Where ``$secret`` values come from; by default the settings' (environment, secrets file).
    secret_resolver: Any = field(default_factory=SettingsSecretResolver)
    owner: str = field(default_factory=lambda: f"pid-{os.getpid()}-{new_id()[:8]}")


class LeaseLost(Exception):
    """A write to a run matched no row: it was canceled, or another driver holds its lease."""


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
    #: The backend that executes the run (``workflow_runs.engine``); other backends' runs are
    #: never driven here.
    engine: str = "embedded"


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
        self._driving: list[str] = []  # runs being driven, a parent before the child it awaits

    # --- creating runs ---------------------------------------------------------------------------

    def create_run(
        self,
        tenant_id: str,
        workflow: WorkflowRow,
        version: VersionRow,
        payload: Any,
        launch: Launch | None = None,
        *,
        failed: dict[str, Any] | None = None,
        run_id: str | None = None,
    ) -> str:
        """Insert a RUNNING run at its first step (or a FAILED one, with ``failed`` as error);
        ``run_id`` when the caller chose the id."""
        launch = launch or Launch()
        now = utcnow()
        run_id = run_id or new_id()
        definition = version.definition_json
        digest = definition_hash(definition)
        meta: dict[str, Any] = {"triggerMappingApplied": launch.trigger_mapping_applied}
        if launch.source_payload_schema_ref:
            meta["sourcePayloadSchemaRef"] = launch.source_payload_schema_ref
        system = {
            "runId": run_id,
            "workflowId": workflow.workflow_id,
            "workflowVersion": version.version,
            "tenantId": tenant_id,
            "definitionHash": digest,
            "runtimeSemanticsVersion": RUNTIME_SEMANTICS_VERSION,
            "startedAt": iso_millis(now),
        }
        state = core.new_state(initial_scopes(payload, system=system, meta=meta))
        runs.insert_run(
            self.conn,
            run_id=run_id,
            tenant=tenant_id,
            workflow_id=workflow.workflow_id,
            workflow_version=version.version,
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
            engine=launch.engine,
            started_at=now,
            completed_at=now if failed else None,
            updated_at=now,
        )
        runs.log(
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
        """Run until the run waits or ends; returns its status. ``now`` judges lease expiry.

        A run that has ended resumes the parent waiting for it (and drives it), unless
        ``resume_parent`` is False: that parent is the one driving it.
        """
        self._require_durable()
        status = self._drive_one(tenant_id, run_id, now or utcnow())
        if resume_parent and status in TERMINAL_STATUSES:
            self.resume_parent(tenant_id, run_id)
        return status

    def resume_parent(self, tenant_id: str, child_id: str) -> bool:
        """Wake the parent that waits for the ended run ``child_id`` and drive it (and, when it
        ends too, its own parent). False when no parent was waiting for this run."""
        self._require_durable()
        resumed = False
        while (parent_id := self._wake_parent(tenant_id, child_id)) is not None:
            self._checkpoint()
            resumed = True
            if self._drive_one(tenant_id, parent_id, utcnow()) not in TERMINAL_STATUSES:
                break
            child_id = parent_id
        self._checkpoint()
        return resumed

    def _require_durable(self) -> None:
        if not self.durable:
            raise RuntimeError(
                "only a durable driver drives runs; this one writes in a caller's transaction"
            )

    def _drive_one(self, tenant_id: str, run_id: str, now: datetime) -> str:
        if not self._claim(run_id, now):
            return self._status(tenant_id, run_id)
        run = runs.load_run(self.conn, tenant_id, run_id)
        if run.status != "RUNNING":
            self._checkpoint()
            return run.status
        self._driving.append(run_id)
        try:
            program = self._guarded(run, lambda: self.program(run))
            if isinstance(program, str):
                return program
            self._checkpoint()  # nothing is held open while the first handler runs
            state = run.live_state
            while True:
                status = self._guarded(run, lambda: self._step(run, program, state))
                if status != "RUNNING":
                    return status
        except LeaseLost:
            self._checkpoint()  # what the step did happened: keep its records
            return self._status(tenant_id, run_id)
        finally:
            self._driving.pop()

    def _guarded(self, run: RunRow, work: Callable[[], Any]) -> Any:
        """``work()``; when it raises, the run is rolled back to its last recorded step and ends
        FAILED, and the run's status is returned instead."""
        savepoint = None if self.durable else self.conn.begin_nested()
        try:
            result = work()
        except LeaseLost:
            if savepoint is not None:
                savepoint.commit()
            raise
        except Exception as exc:
            if savepoint is not None:
                savepoint.rollback()
            else:
                self.conn.rollback()
            return self._fail(run, exc)
        if savepoint is not None:
            savepoint.commit()
        return result

    def _fail(self, run: RunRow, exc: Exception) -> str:
        """End the run FAILED: with the error of a StepFailure (its pinned definition cannot be
        loaded), else ``INTERNAL_ERROR``. Its open waits, tasks and steps are closed."""
        fresh = runs.load_run(self.conn, run.tenant, run.run_id)
        mine = not self.durable or fresh.lease_owner == self.options.owner
        if not (fresh.status == "WAITING" or (fresh.status == "RUNNING" and mine)):
            self._checkpoint()
            return fresh.status  # ended meanwhile, or another driver has it now
        now = utcnow()
        where = fresh.node_path or "root"
        if isinstance(exc, StepFailure):
            error = normalize_error(exc, where, iso_millis(now))
        else:
            log.exception("run %s failed on an unexpected error", run.run_id, exc_info=exc)
            error = internal_error(exc, where, iso_millis(now))
        runs.close_open_records(self.conn, run.run_id, at=now, step_status="FAILED",
                                   error=error)  # fmt: skip
        self._finish(fresh, fresh.state_json, "FAILED", error)
        return "FAILED"

    def _step(self, run: RunRow, program: Program, state: dict[str, Any]) -> str:
        """Perform and record the current step; returns the run status afterwards."""
        child = state.get("child")
        if child:
            return self._await_child(run, program, state, child)
        now = utcnow()
        plan = core.plan(program, state, now)
        match plan:
            case core.Finished(transition=transition) | core.Performed(transition=transition):
                pass
            case core.OpenWait(path=str(path), request=request) if not _due(request, now):
                return self._open_wait(run, state, plan, now)
            case core.OpenWait(path=str(path), request=request):
                # a time.wait already due: no sleep, like Alga
                self._record_resolved_wait(run, plan, now)
                resumed = core.Succeeded({**request.payload, "resumedAt": iso_millis(now)})
                transition = core.complete(program, state, path, resumed, now)
            case core.StartChild(path=str(path)):
                state["child"] = {"path": path, "runId": self._start_child(run, plan, now)}
                self._open_step(run, state, plan, now)
                self._save(run, state, path, "RUNNING")
                return "RUNNING"
            case core.CallAction(path=str(path)) | core.RunNode(path=str(path)):
                ended: list[runs.Write] = []  # the invocation's end, recorded with the step
                outcome = self.perform(run, plan, now, defer=ended.append)
                transition = core.complete(program, state, path, outcome, utcnow())
                return self._record(run, program, plan, transition, now, ended)
            case _:
                raise TypeError(f"the core planned something unknown: {plan!r}")
        return self._record(run, program, plan, transition, now)

    def perform(
        self,
        run: RunRow,
        plan: core.CallAction | core.RunNode,
        now: datetime,
        *,
        defer: Callable[[runs.Write], None] | None = None,
    ) -> core.Outcome:
        """Run an action or a node handler; every failure becomes :class:`core.Failed`.
        ``defer`` takes an action's closing write to send with the step's records.

        Another backend performs its steps through this too (with a driver on its connection)."""
        path = plan.path or ""
        try:
            if isinstance(plan, core.CallAction):
                return core.Succeeded(self._call_action(run, path, plan.request, now, defer))
            return core.Succeeded(self._run_node(run, plan, now))
        except Exception as exc:  # handlers must never crash the driver
            error = normalize_error(exc, path, iso_millis(utcnow()))
            return core.Failed(storable_error(error))

    def _call_action(
        self,
        run: RunRow,
        path: str,
        request: core.ActionRequest,
        now: datetime,
        defer: Callable[[runs.Write], None] | None = None,
    ) -> Any:
        call = Invocation(
            tenant_id=run.tenant,
            run_id=run.run_id,
            step_path=path,
            action_id=request.action_id,
            version=request.version,
            args=request.input,
            attempt=request.attempt,
            explicit_key=request.idempotency_key,
            secrets=request.secrets,
            step_config=request.step_config,
            expression_context=request.expression_context,
        )
        return invoke(
            self.conn, self.registry, call, now=now, timeout_s=self.options.action_timeout_s,
            commit=self._checkpoint, secret_resolver=self.options.secret_resolver, defer=defer,
        )  # fmt: skip

    def _run_node(self, run: RunRow, plan: core.RunNode, now: datetime) -> dict[str, Any]:
        request = plan.request
        node = self.registry.nodes.get(request.type)
        if node is None or node.handler is None:
            raise StepFailure("ActionError", f"Unknown node type {request.type}")
        config = node.parse_config(request.config)
        calls = _NodeActions(self, run, plan.path or "", now)
        context = NodeContext(
            run_id=run.run_id,
            step_path=plan.path,
            tenant_id=run.tenant,
            now_iso=iso_millis(now),
            call_action=calls,
        )

        def handle() -> Any:
            with evaluation_time(now):  # the handler's expressions run at the step's time
                return node.handler(request.envelope, config, context)

        try:
            result = call_with_timeout(handle, self.options.action_timeout_s)
        except TimeoutError as exc:
            raise StepFailure("TimeoutError", f"Node {request.type} {exc}") from None
        finally:
            calls.stop()
        if not isinstance(result, dict):
            raise StepFailure("ActionError", f"Node {request.type} did not return an envelope")
        return ensure_storable(result, f"The envelope node {request.type} returned")

    # --- recording -------------------------------------------------------------------------------

    def _record(
        self,
        run: RunRow,
        program: Program,
        plan: core.StepRef,
        transition: core.Transition,
        started: datetime,
        writes: list[runs.Write] | None = None,
    ) -> str:
        """Project the step and persist the state, with ``writes`` (the step's other records);
        returns the run status afterwards."""
        state = transition.state
        now = utcnow()
        writes = list(writes or ())  # recorded with the run's update, in one round trip
        if transition.step_status and plan.path:
            lines: list[dict[str, Any]] = []
            opened = state.pop("openStep", None)
            if opened and opened["path"] == plan.path:
                row_id = opened["id"]
                writes.append(
                    runs.step_finish(
                        row_id, status=transition.step_status,
                        started_at=datetime.fromisoformat(opened["startedAt"]), completed_at=now,
                        error=transition.step_error,
                    )
                )  # fmt: skip
            else:
                attempt = self._next_attempt(state, plan.path)
                row_id, insert = runs.step_insert(
                    tenant_id=run.tenant, run_id=run.run_id, path=plan.path,
                    step_id=str((plan.step or {}).get("id", "")), status=transition.step_status,
                    attempt=attempt, started_at=started, completed_at=now,
                    error=transition.step_error,
                )  # fmt: skip
                writes.append(insert)
                lines.append(
                    self._step_line(run, plan, row_id, "STARTED", started, attempt=attempt)
                )
            lines.append(
                self._step_line(run, plan, row_id, transition.step_status, now,
                                error=transition.step_error)
            )  # fmt: skip
            writes.append(runs.logs_insert(lines))  # one statement for the step's lines
        if transition.retry is not None:
            for write in writes:
                self.conn.execute(write)
            return self._schedule_retry(run, program, plan, state, transition.retry, started)
        if transition.run_status:
            self._finish(run, state, str(transition.run_status), transition.run_error, writes)
            return str(transition.run_status)
        self._save(run, state, core.current_path(program, state), "RUNNING", writes)
        return "RUNNING"

    def _next_attempt(self, state: dict[str, Any], path: str) -> int:
        attempts = state.setdefault("attempts", {})
        attempts[path] = attempts.get(path, 0) + 1
        return attempts[path]

    def _open_step(
        self, run: RunRow, state: dict[str, Any], plan: core.StepRef, now: datetime
    ) -> None:
        """A STARTED row for a step that outlives this call (wait, retry delay, child run)."""
        path = plan.path
        if path is None:
            raise ValueError("only a plan at a step opens a step row")
        if (state.get("openStep") or {}).get("path") == path:
            return
        attempt = self._next_attempt(state, path)
        row_id = runs.insert_step(
            self.conn, tenant_id=run.tenant, run_id=run.run_id, path=path,
            step_id=str((plan.step or {}).get("id", "")), status="STARTED",
            attempt=attempt, started_at=now,
        )  # fmt: skip
        state["openStep"] = {"path": path, "id": row_id, "startedAt": now.isoformat()}
        runs.insert_logs(
            self.conn, [self._step_line(run, plan, row_id, "STARTED", now, attempt=attempt)]
        )

    def _step_line(
        self,
        run: RunRow,
        plan: core.StepRef,
        row_id: str,
        status: str,
        at: datetime,
        *,
        attempt: int | None = None,
        error: dict[str, Any] | None = None,
        delay_ms: int | None = None,
    ) -> dict[str, Any]:
        """The log row of a step's start or end, naming the step row and path (Alga's columns),
        so a failed run's logs say where it failed."""
        step = plan.step or {}
        line = step_log_line(
            definition_step_id=str(step.get("id", "")), step_type=step.get("type"),
            status=status, attempt=attempt, error=error, delay_ms=delay_ms,
        )  # fmt: skip
        return runs.log_row(
            tenant_id=run.tenant, run_id=run.run_id, level=line.level,
            message=line.message, at=at, step_id=row_id, step_path=plan.path,
            context=line.context,
        )  # fmt: skip

    def _owner(self) -> str | None:
        """The lease every write must still hold (durable mode only)."""
        return self.options.owner if self.durable else None

    def _lease(self, now: datetime) -> dict[str, Any]:
        if not self.durable:
            return {"lease_owner": None, "lease_expires_at": None}
        return {
            "lease_owner": self.options.owner,
            "lease_expires_at": now + timedelta(seconds=self.options.lease_s),
        }

    def _save(
        self,
        run: RunRow,
        state: dict[str, Any],
        node_path: str | None,
        status: str,
        along: list[runs.Write] | None = None,
    ) -> None:
        """Persist the state (and ``along``, the step's records) and commit."""
        now = utcnow()
        lease = (
            self._lease(now)
            if status == "RUNNING"
            else {"lease_owner": None, "lease_expires_at": None}
        )
        if not runs.update_run(
            self.conn, run.run_id, only_if=("RUNNING",), owner=self._owner(),
            along=along or (), state_json=state, node_path=node_path, status=status,
            error_json=None, updated_at=now, **lease,
        ):  # fmt: skip
            raise LeaseLost(run.run_id)
        self._renew_parents(now)
        self._checkpoint()

    def _renew_parents(self, now: datetime) -> None:
        """A parent driving its child inline keeps its lease while the child makes progress."""
        parents = self._driving[:-1]
        if parents:
            runs.renew_leases(
                self.conn, parents, owner=self.options.owner,
                until=now + timedelta(seconds=self.options.lease_s),
            )  # fmt: skip

    def _finish(
        self,
        run: RunRow,
        state: dict[str, Any] | None,
        status: str,
        error: dict[str, Any] | None,
        along: list[runs.Write] | None = None,
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
        if not runs.update_run(
            self.conn, run.run_id, only_if=ACTIVE_STATUSES, owner=self._owner(),
            along=along or (), **values,
        ):  # fmt: skip
            raise LeaseLost(run.run_id)
        if status != "SUCCEEDED":  # only a driver that ended the run says so
            level = "WARN" if status == "CANCELED" else "ERROR"
            where = (error or {}).get("nodePath")
            runs.log(
                self.conn, tenant_id=run.tenant, run_id=run.run_id, level=level,
                message=f"Run {status.lower()}", at=now, context=error,
                step_path=where if isinstance(where, str) else None,
            )  # fmt: skip
        self._checkpoint()

    def _wake_parent(self, tenant_id: str, child_id: str) -> str | None:
        """The parent awaiting the ended run ``child_id``, made RUNNING (not driven yet)."""
        child = runs.load_run(self.conn, tenant_id, child_id)
        parent_id = child.parent_run_id
        if child.status not in TERMINAL_STATUSES or not parent_id or parent_id in self._driving:
            return None
        parent = runs.load_run(self.conn, tenant_id, parent_id)
        state = parent.state_json or {}
        if (state.get("child") or {}).get("runId") != child_id or state.get("wait"):
            return None
        if parent.status == "WAITING":
            woken = runs.update_run(
                self.conn, parent_id, only_if=("WAITING",), status="RUNNING", updated_at=utcnow()
            )
            return parent_id if woken else None
        return parent_id if parent.status == "RUNNING" else None

    def _status(self, tenant_id: str, run_id: str) -> str:
        status = runs.load_run(self.conn, tenant_id, run_id).status
        self._checkpoint()
        return status

    def _checkpoint(self) -> None:
        if self.durable:
            self.conn.commit()

    def _claim(self, run_id: str, now: datetime) -> bool:
        claimed = runs.claim_run(
            self.conn, run_id, owner=self.options.owner, now=now, **self._lease(now)
        )  # fmt: skip
        self._checkpoint()
        return claimed

    # --- programs, secrets -----------------------------------------------------------------------

    def program(self, run: RunRow) -> Program:
        """The pinned version, refused when its definition no longer matches the run's hash."""
        key = (run.workflow_id, run.workflow_version)
        if key not in self._programs:
            try:
                version = get_version(self.conn, run.tenant, *key)
            except AlgaflowError as exc:
                raise StepFailure("ValidationError", exc.message, code=exc.code) from None
            definition = version.definition_json
            if run.definition_hash and definition_hash(definition) != run.definition_hash:
                raise StepFailure(
                    "ValidationError",
                    "Workflow definition changed since the run started (definition hash mismatch)",
                    code="DEFINITION_HASH_MISMATCH",
                )
            self._programs[key] = Program(definition)
        return self._programs[key]

    # --- waits -----------------------------------------------------------------------------------

    def _open_wait(
        self, run: RunRow, state: dict[str, Any], plan: core.OpenWait, now: datetime
    ) -> str:
        request = plan.request
        self._open_step(run, state, plan, now)
        wait_id = new_id()
        key = request.key
        payload = dict(request.payload)
        if request.task is not None:
            key = self._create_task(run, plan.path, wait_id, request.task, now)
            payload["taskId"] = key
        due = parse_instant(request.due_at) if request.due_at else None
        wait_type = str(request.type)
        waits.insert_wait(
            self.conn, wait_id=wait_id, tenant=run.tenant, run_id=run.run_id,
            step_path=plan.path, wait_type=wait_type, key=key,
            event_name=request.event_name, timeout_at=due, payload=payload,
            created_at=now,
        )  # fmt: skip
        state["wait"] = {"path": plan.path, "waitId": wait_id, "type": wait_type}
        self._save(run, state, plan.path, "WAITING")
        return "WAITING"

    def _record_resolved_wait(self, run: RunRow, plan: core.OpenWait, now: datetime) -> None:
        request = plan.request
        wait_id = waits.insert_wait(
            self.conn, tenant=run.tenant, run_id=run.run_id, step_path=plan.path,
            wait_type=str(request.type), key=None, event_name=None,
            timeout_at=parse_instant(request.due_at or ""), payload=request.payload,
            created_at=now,
        )  # fmt: skip
        waits.close_wait(self.conn, wait_id, status="RESOLVED", at=now)

    def _create_task(
        self,
        run: RunRow,
        path: str | None,
        wait_id: str,
        task: core.HumanTask,
        now: datetime,
    ) -> str:
        return waits.insert_task(
            self.conn, tenant=run.tenant, run_id=run.run_id, step_path=path,
            wait_id=wait_id, task_type=task.task_type, title=task.title,
            description=task.description, context_data=task.context_data, created_at=now,
        )  # fmt: skip

    def _schedule_retry(
        self,
        run: RunRow,
        program: Program,
        plan: core.StepRef,
        state: dict[str, Any],
        retry: core.Retry,
        started: datetime,
    ) -> str:
        """A retry is another attempt in the same step row; a delay is a durable ``retry`` wait."""
        self._open_step(run, state, plan, started)
        delay = retry.delay_ms
        opened = state["openStep"]
        line = self._step_line(
            run,
            plan,
            opened["id"],
            "RETRYING",
            utcnow(),
            attempt=retry.attempt,
            error=retry.error,
            delay_ms=delay,
        )
        runs.insert_logs(self.conn, [line])  # fmt: skip
        if delay <= 0:
            self._save(run, state, plan.path, "RUNNING")
            return "RUNNING"
        now = utcnow()
        due = now + timedelta(milliseconds=delay)
        wait_id = waits.insert_wait(
            self.conn, tenant=run.tenant, run_id=run.run_id, step_path=plan.path,
            wait_type="retry", key=None, event_name=None, timeout_at=due,
            payload={"attempt": retry.attempt, "delayMs": delay, "error": retry.error},
            created_at=now,
        )  # fmt: skip
        state["wait"] = {"path": plan.path, "waitId": wait_id, "type": "retry"}
        self._save(run, state, plan.path, "WAITING")
        return "WAITING"

    def resolve_wait(
        self,
        tenant_id: str,
        run_id: str,
        wait_id: str,
        outcome: core.Outcome | dict[str, Any],
    ) -> list[str] | None:
        """Apply a wait's outcome to its run; nothing is driven here.

        None when the wait was already resolved (by another event, a timeout, a cancel).
        Otherwise the runs the caller should drive next: this run while it goes on, or the
        parent it woke by ending (made RUNNING). ``outcome`` may come in its JSON form
        (``{"ok": ...}`` / ``{"error": ...}``).
        """
        if isinstance(outcome, dict):
            outcome = core.outcome_from_json(outcome)
        now = utcnow()
        if not waits.close_wait(self.conn, wait_id, status="RESOLVED", at=now):
            self._checkpoint()
            return None
        run = runs.load_run(self.conn, tenant_id, run_id)
        if run.status != "WAITING" or (run.live_state.get("wait") or {}).get("waitId") != wait_id:
            self._checkpoint()
            return None
        state = run.live_state
        runs.update_run(self.conn, run_id, only_if=("WAITING",), status="RUNNING",
                          **self._lease(now))  # fmt: skip
        run = dataclasses.replace(run, status="RUNNING")
        try:
            status = self._guarded(run, lambda: self._apply_wait(run, state, outcome, now))
        except LeaseLost:
            status = "LOST"
        self._checkpoint()
        if status == "RUNNING":
            return [run_id]
        if status in TERMINAL_STATUSES:
            parent = self._wake_parent(tenant_id, run_id)
            self._checkpoint()
            return [parent] if parent else []
        return []

    def _apply_wait(
        self, run: RunRow, state: dict[str, Any], outcome: core.Outcome, now: datetime
    ) -> str:
        program = self.program(run)
        wait = state.pop("wait")
        if wait["type"] == "retry":  # the next plan() makes the next attempt
            self._save(run, state, wait["path"], "RUNNING")
            return "RUNNING"
        if wait["type"] == core.WaitType.TIME and isinstance(outcome, core.Succeeded):
            payload = waits.wait_payload(self.conn, wait["waitId"])
            outcome = core.Succeeded({**payload, "resumedAt": iso_millis(now)})
        step = program.step(wait["path"]) or {}
        plan = core.StepRef(wait["path"], step)
        transition = core.complete(program, state, wait["path"], outcome, now)
        return self._record(run, program, plan, transition, now)

    # --- child runs ------------------------------------------------------------------------------

    def _start_child(self, run: RunRow, plan: core.StartChild, now: datetime) -> str | None:
        request = plan.request
        try:
            workflow = get_workflow(self.conn, run.tenant, request.workflow_id)
            version = get_version(
                self.conn, run.tenant, workflow.workflow_id, request.workflow_version
            )
        except AlgaflowError:
            return None
        launch = Launch(
            trigger_metadata={
                "parentRunId": run.run_id,
                "rootRunId": run.root_run_id or run.run_id,
                "parentStepPath": plan.path,
            },
            parent_run_id=run.run_id,
            root_run_id=run.root_run_id or run.run_id,
        )
        return self.create_run(run.tenant, workflow, version, request.input, launch)

    def _await_child(
        self, run: RunRow, program: Program, state: dict[str, Any], child: dict[str, Any]
    ) -> str:
        """Drive the child inline; when it has ended, complete the parent's step with its result."""
        path = child["path"]
        step = program.step(path) or {}
        outcome: core.Outcome
        if child["runId"] is None:
            outcome = core.Failed(child_missing(step, path))
        else:
            status = self.drive(run.tenant, child["runId"], resume_parent=False)
            if status not in TERMINAL_STATUSES:
                self._save(run, state, path, "WAITING")
                return "WAITING"
            outcome = child_outcome(runs.load_run(self.conn, run.tenant, child["runId"]), step)
        state.pop("child")
        plan = core.StepRef(path, step)
        transition = core.complete(program, state, path, outcome, utcnow())
        return self._record(run, program, plan, transition, utcnow())


class _NodeActions:
    """``call_action`` for a node handler, refused once the node's step has timed out.

    The handler runs on its own thread and uses the driver's connection through this; ``stop``
    waits for a call in progress to end, so after it the connection is the driver's alone again
    (a timed-out handler's thread cannot be killed and may try to call more actions).
    """

    def __init__(self, driver: Driver, run: RunRow, path: str, now: datetime) -> None:
        self._driver, self._run, self._path, self._now = driver, run, path, now
        self._lock = threading.Lock()
        self._stopped = False

    def __call__(self, action_id: str, version: int, args: dict[str, Any]) -> Any:
        with self._lock:
            if self._stopped:
                raise StepFailure(
                    "TimeoutError",
                    "The node step has ended (timed out); it cannot call actions any more",
                    code="NODE_STEP_ENDED",
                )
            request = core.ActionRequest(
                action_id=action_id, version=version, input=args, secrets=(),
                idempotency_key=None, attempt=1, step_config=None, expression_context={},
            )  # fmt: skip
            try:
                return self._driver._call_action(self._run, self._path, request, self._now)
            finally:
                self._driver._checkpoint()  # the handler goes on: hold nothing open meanwhile

    def stop(self) -> None:
        with self._lock:
            self._stopped = True


def _due(request: core.WaitRequest, now: datetime) -> bool:
    due = parse_instant(request.due_at) if request.due_at else None
    return request.type is core.WaitType.TIME and due is not None and due <= now


def child_missing(step: dict[str, Any], path: str) -> dict[str, Any]:
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


def child_outcome(child: RunRow, step: dict[str, Any]) -> core.Outcome:
    """The final scopes of a SUCCEEDED child; a ChildWorkflowError otherwise."""
    state = child.state_json or {}
    if child.status == "SUCCEEDED":
        return core.Succeeded(copy.deepcopy(state.get("scopes") or {}))
    cause = child.error_json or {}
    category = "Cancellation" if child.status == "CANCELED" else "ChildWorkflowError"
    return core.Failed(
        {
            "category": category,
            "message": "Child workflow execution failed",
            "details": {
                "workflowId": step.get("workflowId"),
                "workflowVersion": step.get("workflowVersion"),
                "childRunId": child.run_id,
                "rootRunId": child.root_run_id,
                "cause": cause,
            },
            "nodePath": (child.get("trigger_metadata_json") or {}).get("parentStepPath"),
            "at": iso_millis(utcnow()),
        }
    )
