"""The documented shapes of the API's answers, for ``/openapi.json`` and ``/docs``.

The routes answer the views the services build; these models describe them field by field (a
view may carry more fields than listed: each model allows extra ones). They are documentation:
``responses=`` of each route names one, so an answer is never re-validated on its way out.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Json = dict[str, Any]


class _View(BaseModel):
    model_config = ConfigDict(extra="allow")


class Workflow(_View):
    """A workflow as listed: its settings and its latest published version."""

    workflowId: str
    key: str = Field(description="Portable identity, ^[a-z0-9][a-z0-9._-]*$")
    name: str
    description: str | None = None
    payloadSchemaRef: str | None = None
    payloadSchemaMode: str = Field(description='"pinned" or "inferred"')
    pinnedPayloadSchemaRef: str | None = None
    trigger: Json | None = None
    status: str = Field(description='"draft" or "published"')
    publishedVersion: int | None = Field(None, description="The highest published version")
    draftVersion: int
    isPaused: bool
    isVisible: bool
    isSystem: bool
    concurrencyLimit: int | None = None
    autoPauseOnFailure: bool
    failureRateThreshold: str | None = Field(None, description='A fraction, e.g. "0.50"')
    failureRateMinRuns: int | None = None
    retentionPolicyOverride: Json | None = None
    validationStatus: str | None = None
    createdAt: str
    updatedAt: str


class WorkflowWithDraft(Workflow):
    """A workflow with its draft definition and the draft's last validation."""

    draftDefinition: Json | None = None
    validationErrors: list[Json] | None = None
    validationWarnings: list[Json] | None = None


class WorkflowVersion(_View):
    """A published version (``GET .../{version}`` adds its definition and schema snapshot)."""

    workflowId: str
    version: int
    publishedAt: str | None = None
    validationStatus: str | None = None
    definition: Json | None = None
    payloadSchemaJson: Json | None = None


class PublishIssue(_View):
    severity: str = Field(description='"error" or "warning"')
    stepPath: str
    code: str = Field(description="A publish code (see the authoring guide's table)")
    message: str
    stepId: str | None = None
    suggestion: str | None = None


class Validation(_View):
    """Publish validation: errors block, warnings do not."""

    ok: bool
    errors: list[PublishIssue]
    warnings: list[PublishIssue]


class Published(Validation):
    publishedVersion: int | None = Field(None, description="The new version, when ok")


class Step(_View):
    stepPath: str
    stepId: str | None = None
    definitionStepId: str | None = None
    status: str
    attempt: int
    startedAt: str | None = None
    completedAt: str | None = None
    durationMs: int | None = None
    error: Json | None = None


class RunSummary(_View):
    """A run as listed."""

    runId: str
    workflowId: str
    workflowVersion: int
    status: str = Field(description="RUNNING, WAITING, SUCCEEDED, FAILED or CANCELED")
    nodePath: str | None = None
    input: Any = None
    vars: Json | None = None
    error: Json | None = None
    parentRunId: str | None = None
    rootRunId: str | None = None
    triggerType: str | None = None
    eventType: str | None = None
    startedAt: str | None = None
    completedAt: str | None = None
    updatedAt: str | None = None


class Run(RunSummary):
    """A run with its steps, waits and log lines."""

    steps: list[Step] = []
    waits: list[Json] = []
    logs: list[Json] = []


class EventDelivery(_View):
    eventId: str
    status: str = Field(description='"resumed" when a wait matched, else "no_wait"')
    startedRuns: list[str] = Field(description="Runs the event's triggers started")
    resumedRuns: list[str]
    runId: str | None = Field(None, description="The first resumed run, if any")
    errors: list[str] | None = Field(None, description="Triggered starts that were refused")


class Task(_View):
    taskId: str
    runId: str
    taskType: str
    title: str | None = None
    status: str = Field(description="PENDING, COMPLETED or CANCELED")


class Health(BaseModel):
    status: str
    version: str


class JsonSchemaDocument(_View):
    """A JSON Schema (draft-07): its usual top-level keywords; any other is allowed."""

    type: str | list[str] | None = None
    properties: dict[str, Json] | None = None
    required: list[str] | None = None
    additionalProperties: bool | Json | None = None
    definitions: dict[str, Json] | None = None
