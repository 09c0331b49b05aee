"""Typed rows of the run tables; no SQL here (:mod:`algaflow.store.runs` and siblings read them).

Fields are named like the columns, so a reader of the schema finds the same names; ``row["col"]``
stays available read-only for the views, which also accept the mappings tests build.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from algaflow.store.workflow_rows import _Row

RUN_STATUSES = ("RUNNING", "WAITING", "SUCCEEDED", "FAILED", "CANCELED")
#: A run in these statuses is still going: it holds its concurrency slot and can be resumed.
ACTIVE_STATUSES = ("RUNNING", "WAITING")
#: A run in these statuses has ended for good.
TERMINAL_STATUSES = ("SUCCEEDED", "FAILED", "CANCELED")


@dataclass(frozen=True)
class RunRow(_Row):
    """One ``workflow_runs`` row."""

    run_id: str
    tenant: str
    workflow_id: str
    workflow_version: int
    status: str
    node_path: str | None
    input_json: Any
    error_json: dict[str, Any] | None
    state_json: dict[str, Any] | None
    final_vars_json: Any
    event_type: str | None
    source_payload_schema_ref: str | None
    trigger_mapping_applied: bool
    trigger_type: str | None
    trigger_metadata_json: dict[str, Any] | None
    trigger_fire_key: str | None
    engine: str
    definition_hash: str | None
    runtime_semantics_version: str | None
    parent_run_id: str | None
    root_run_id: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    started_at: datetime
    completed_at: datetime | None
    updated_at: datetime
    # When the backend took the run (a Temporal workflow started); None for embedded runs.
    dispatched_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def live_state(self) -> dict[str, Any]:
        """The interpreter state; every run that got past its start has one (a run refused at
        its start is FAILED without one, and nothing drives or resumes it)."""
        if self.state_json is None:
            raise ValueError(f"run {self.run_id} has no interpreter state")
        return self.state_json


@dataclass(frozen=True)
class StepRow(_Row):
    """One ``workflow_run_steps`` row: a step's attempts, from start to end."""

    step_id: str
    tenant: str
    run_id: str
    step_path: str
    definition_step_id: str
    status: str
    attempt: int
    duration_ms: int | None
    error_json: dict[str, Any] | None
    started_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class WaitRow(_Row):
    """One ``workflow_run_waits`` row: a timer, retry delay, event or human wait."""

    wait_id: str
    tenant: str
    run_id: str
    step_path: str
    wait_type: str
    key: str | None
    event_name: str | None
    timeout_at: datetime | None
    status: str
    payload: dict[str, Any] | None
    created_at: datetime
    resolved_at: datetime | None
    # The outcome a Temporal run's wait was resolved with, kept until its workflow has it.
    outcome_json: dict[str, Any] | None = None


@dataclass(frozen=True)
class TaskRow(_Row):
    """One ``workflow_tasks`` row (a human task)."""

    task_id: str
    tenant: str
    run_id: str
    step_path: str
    wait_id: str | None
    task_type: str
    title: str
    description: str | None
    status: str
    priority: str
    context_data: Any
    response_json: Any
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class InvocationRow(_Row):
    """One ``workflow_action_invocations`` row: the claim on an action's idempotency key."""

    invocation_id: str
    tenant: str
    run_id: str
    step_path: str
    action_id: str
    action_version: int
    idempotency_key: str
    status: str
    attempt: int
    input_json: Any
    output_json: Any
    error_json: dict[str, Any] | None
    error_message: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class LogRow(_Row):
    """One ``workflow_run_logs`` row."""

    log_id: str
    tenant: str
    run_id: str
    step_id: str | None
    step_path: str | None
    level: str
    message: str
    context_json: Any
    correlation_key: str | None
    event_name: str | None
    source: str | None
    created_at: datetime
