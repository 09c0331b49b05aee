"""Run, event and human-task routes. Runs are executed with a commit after every step."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection, Engine

from algaflow.registry import Registry
from algaflow.runtime import service

from ..deps import Principal, get_engine, get_registry, read_conn, require

router = APIRouter(tags=["workflow-runs"])


class StartRun(BaseModel):
    model_config = ConfigDict(extra="forbid")
    workflowId: str
    workflowVersion: int | None = Field(None, ge=1)
    payload: Any = Field(default_factory=dict)


class SubmitEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    eventName: str = Field(min_length=1)
    correlationKey: str | None = None
    workflowCorrelationKey: str | None = None
    payloadSchemaRef: str | None = None
    eventId: str | None = None
    payload: Any = Field(default_factory=dict)


class CompleteTask(BaseModel):
    model_config = ConfigDict(extra="forbid")
    taskId: str
    output: Any = Field(default_factory=dict)


@router.post("/workflow-runs", status_code=201)
def start_run(
    body: StartRun,
    principal: Principal = Depends(require("workflow:run")),
    engine: Engine = Depends(get_engine),
    registry: Registry = Depends(get_registry),
) -> dict[str, Any]:
    return service.start_run_durable(
        engine, principal.tenant_id, body.workflowId, registry=registry,
        version=body.workflowVersion, payload=body.payload,
    )  # fmt: skip


@router.get("/workflow-runs")
def list_runs(
    workflowId: str | None = None,
    status: str | None = None,
    limit: int = Query(service.DEFAULT_LIMIT, ge=1, le=1000),
    principal: Principal = Depends(require("workflow:read")),
    conn: Connection = Depends(read_conn),
) -> list[dict[str, Any]]:
    return service.list_runs(
        conn, principal.tenant_id, workflow_id=workflowId, status=status, limit=limit
    )


@router.get("/workflow-runs/{runId}")
def get_run(
    runId: str,
    principal: Principal = Depends(require("workflow:read")),
    conn: Connection = Depends(read_conn),
) -> dict[str, Any]:
    return service.get_run(conn, principal.tenant_id, runId)


@router.post("/workflow-runs/{runId}/cancel")
def cancel_run(
    runId: str,
    principal: Principal = Depends(require("workflow:run")),
    engine: Engine = Depends(get_engine),
) -> dict[str, Any]:
    return service.cancel_run_durable(engine, principal.tenant_id, runId)


@router.post("/workflow/events")
def submit_event(
    body: SubmitEvent,
    principal: Principal = Depends(require("workflow:run")),
    engine: Engine = Depends(get_engine),
    registry: Registry = Depends(get_registry),
) -> dict[str, Any]:
    return service.emit_event_durable(
        engine, principal.tenant_id, body.eventName, body.payload, registry=registry,
        correlation_key=body.workflowCorrelationKey or body.correlationKey,
        payload_schema_ref=body.payloadSchemaRef, event_id=body.eventId,
    )  # fmt: skip


@router.get("/workflow/tasks")
def list_tasks(
    status: str | None = Query("PENDING", pattern="^(PENDING|COMPLETED|CANCELED)$"),
    runId: str | None = None,
    principal: Principal = Depends(require("workflow:read")),
    conn: Connection = Depends(read_conn),
) -> list[dict[str, Any]]:
    return service.list_tasks(conn, principal.tenant_id, status=status, run_id=runId)


@router.post("/workflow/tasks")
def complete_task(
    body: CompleteTask,
    principal: Principal = Depends(require("workflow:run")),
    engine: Engine = Depends(get_engine),
    registry: Registry = Depends(get_registry),
) -> dict[str, Any]:
    return service.complete_task_durable(
        engine, principal.tenant_id, body.taskId, body.output, registry=registry
    )
