"""Run, event and human-task routes: parse, call one service, render.

Runs are executed with a commit after every step (see :mod:`algaflow.services.due_work`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from algaflow.registry import Registry
from algaflow.services import events, runs, tasks
from algaflow.services.unit_of_work import UnitOfWork

from .. import responses as shapes
from ..deps import Principal, get_registry, get_uow, require
from ..errors import error_responses

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


@router.post(
    "/workflow-runs",
    status_code=201,
    summary="Start a run",
    description="Starts a run of a published version (default: the latest) with the payload,"
    " and executes it until it waits or ends. The payload must satisfy the version's schema.",
    response_model=None,
    responses={201: {"model": shapes.Run}, **error_responses(404, 409, 413, 422)},
)
def start_run(
    body: StartRun,
    principal: Principal = Depends(require("workflow:run")),
    uow: UnitOfWork = Depends(get_uow),
    registry: Registry = Depends(get_registry),
) -> dict[str, Any]:
    return runs.start_run(
        uow, principal.tenant_id, body.workflowId, registry=registry,
        version=body.workflowVersion, payload=body.payload,
    )  # fmt: skip


@router.get(
    "/workflow-runs",
    summary="List runs",
    description="The tenant's runs, newest first, filtered by workflow id and status.",
    response_model=None,
    responses={200: {"model": list[shapes.RunSummary]}, **error_responses(422)},
)
def list_runs(
    workflowId: str | None = None,
    status: str | None = None,
    limit: int = Query(runs.DEFAULT_LIMIT, ge=1, le=1000),
    principal: Principal = Depends(require("workflow:read")),
    uow: UnitOfWork = Depends(get_uow),
) -> list[dict[str, Any]]:
    return runs.list_runs(
        uow, principal.tenant_id, workflow_id=workflowId, status=status, limit=limit
    )


@router.get(
    "/workflow-runs/{runId}",
    summary="Show a run",
    description="One run with its steps, open and closed waits, and its log lines.",
    response_model=None,
    responses={200: {"model": shapes.Run}, **error_responses(404)},
)
def get_run(
    runId: str,
    principal: Principal = Depends(require("workflow:read")),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    return runs.get_run(uow, principal.tenant_id, runId)


@router.post(
    "/workflow-runs/{runId}/cancel",
    summary="Cancel a run",
    description="Cancels the run, its open waits and tasks, and its child runs; answers the run."
    " A finished run is answered unchanged.",
    response_model=None,
    responses={200: {"model": shapes.Run}, **error_responses(404, 409)},
)
def cancel_run(
    runId: str,
    principal: Principal = Depends(require("workflow:run")),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    return runs.cancel_run(uow, principal.tenant_id, runId)


@router.post(
    "/workflow/events",
    summary="Submit an event",
    description="Resumes the runs waiting for the event (by name and correlation key) and"
    " starts every published workflow whose trigger names it. eventId makes a delivery"
    " idempotent. A triggered start that is refused (a payload its schema rejects) is listed in"
    " errors; the others still start.",
    response_model=None,
    responses={200: {"model": shapes.EventDelivery}, **error_responses(409, 413, 422)},
)
def submit_event(
    body: SubmitEvent,
    wait: bool = Query(
        False,
        description="Answer once the started and resumed runs wait or have ended, instead of once "
        "they are recorded (workers execute them).",
    ),
    principal: Principal = Depends(require("workflow:run")),
    uow: UnitOfWork = Depends(get_uow),
    registry: Registry = Depends(get_registry),
) -> dict[str, Any]:
    return events.emit_event(
        uow, principal.tenant_id, body.eventName, body.payload, registry=registry,
        correlation_key=body.workflowCorrelationKey or body.correlationKey,
        payload_schema_ref=body.payloadSchemaRef, event_id=body.eventId, wait=wait,
    )  # fmt: skip


@router.get(
    "/workflow/tasks",
    summary="List human tasks",
    description="The tenant's human tasks (pending by default), oldest first, by run.",
    response_model=None,
    responses={200: {"model": list[shapes.Task]}, **error_responses()},
)
def list_tasks(
    status: str | None = Query("PENDING", pattern="^(PENDING|COMPLETED|CANCELED)$"),
    runId: str | None = None,
    principal: Principal = Depends(require("workflow:read")),
    uow: UnitOfWork = Depends(get_uow),
) -> list[dict[str, Any]]:
    return tasks.list_tasks(uow, principal.tenant_id, status=status, run_id=runId)


@router.post(
    "/workflow/tasks",
    summary="Complete a human task",
    description="Completes a pending task with its output; the run resumes and executes until"
    " it waits or ends. Answers the completed task.",
    response_model=None,
    responses={200: {"model": shapes.Task}, **error_responses(404, 409, 413, 422)},
)
def complete_task(
    body: CompleteTask,
    principal: Principal = Depends(require("workflow:run")),
    uow: UnitOfWork = Depends(get_uow),
    registry: Registry = Depends(get_registry),
) -> dict[str, Any]:
    return tasks.complete_task(
        uow, principal.tenant_id, body.taskId, body.output, registry=registry
    )
