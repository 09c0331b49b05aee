"""The public JSON shape of runs, steps, waits and tasks (camelCase, like the other views).

Each view takes a typed row of :mod:`algaflow.store.run_rows`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from algaflow.store.run_rows import LogRow, RunRow, StepRow, TaskRow, WaitRow


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def run_view(row: RunRow) -> dict[str, Any]:
    return {
        "runId": row.run_id,
        "workflowId": row.workflow_id,
        "workflowVersion": row.workflow_version,
        "status": row.status,
        "nodePath": row.node_path,
        "input": row.input_json,
        "error": row.error_json,
        "vars": row.final_vars_json,
        "triggerType": row.trigger_type,
        "triggerMetadata": row.trigger_metadata_json,
        "triggerFireKey": row.trigger_fire_key,
        "eventType": row.event_type,
        "sourcePayloadSchemaRef": row.source_payload_schema_ref,
        "triggerMappingApplied": row.trigger_mapping_applied,
        "definitionHash": row.definition_hash,
        "runtimeSemanticsVersion": row.runtime_semantics_version,
        "parentRunId": row.parent_run_id,
        "rootRunId": row.root_run_id,
        "startedAt": _iso(row.started_at),
        "completedAt": _iso(row.completed_at),
        "updatedAt": _iso(row.updated_at),
    }


def step_view(row: StepRow) -> dict[str, Any]:
    return {
        "stepId": row.step_id,
        "stepPath": row.step_path,
        "definitionStepId": row.definition_step_id,
        "status": row.status,
        "attempt": row.attempt,
        "durationMs": row.duration_ms,
        "error": row.error_json,
        "startedAt": _iso(row.started_at),
        "completedAt": _iso(row.completed_at),
    }


def wait_view(row: WaitRow) -> dict[str, Any]:
    return {
        "waitId": row.wait_id,
        "stepPath": row.step_path,
        "waitType": row.wait_type,
        "key": row.key,
        "eventName": row.event_name,
        "timeoutAt": _iso(row.timeout_at),
        "status": row.status,
        "payload": row.payload,
        "createdAt": _iso(row.created_at),
        "resolvedAt": _iso(row.resolved_at),
    }


def task_view(row: TaskRow) -> dict[str, Any]:
    return {
        "taskId": row.task_id,
        "runId": row.run_id,
        "stepPath": row.step_path,
        "taskType": row.task_type,
        "title": row.title,
        "description": row.description,
        "status": row.status,
        "priority": row.priority,
        "contextData": row.context_data,
        "response": row.response_json,
        "createdAt": _iso(row.created_at),
        "completedAt": _iso(row.completed_at),
    }


def log_view(row: LogRow) -> dict[str, Any]:
    return {
        "logId": row.log_id,
        "stepId": row.step_id,
        "stepPath": row.step_path,
        "level": row.level,
        "message": row.message,
        "context": row.context_json,
        "correlationKey": row.correlation_key,
        "eventName": row.event_name,
        "source": row.source,
        "createdAt": _iso(row.created_at),
    }
