"""Workflow definition routes (Alga's surface): create, list, read, drafts, metadata, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from algaflow.kernel.storable import INT4_MAX
from algaflow.registry import Registry
from algaflow.services import UnitOfWork
from algaflow.services import definitions as service

from .. import responses as shapes
from ..deps import Principal, get_registry, get_uow, require
from ..errors import error_responses

router = APIRouter(prefix="/workflow-definitions", tags=["workflow-definitions"])
#: A version in a path: an int4 column, so anything else cannot exist (and would overflow SQL).
VersionPath = Annotated[int, Path(ge=1, le=INT4_MAX)]


class CreateWorkflow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(description="Portable identity, ^[a-z0-9][a-z0-9._-]*$")
    definition: dict[str, Any] | None = None
    name: str | None = None
    payloadSchemaRef: str | None = None
    description: str | None = None
    trigger: dict[str, Any] | None = None
    payloadSchemaMode: str = "pinned"
    pinnedPayloadSchemaRef: str | None = None


class ReplaceDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")
    definition: dict[str, Any]


class UpdateMetadata(BaseModel):
    model_config = ConfigDict(extra="forbid")
    isPaused: bool | None = None
    isVisible: bool | None = None
    concurrencyLimit: int | None = None
    autoPauseOnFailure: bool | None = None
    failureRateThreshold: float | str | None = None
    failureRateMinRuns: int | None = None
    retentionPolicyOverride: dict[str, Any] | None = None
    payloadSchemaMode: str | None = None
    pinnedPayloadSchemaRef: str | None = None


@router.post(
    "",
    status_code=201,
    summary="Create a workflow",
    description="A new workflow with a draft (the given definition, or an empty one). Name and"
    " payload schema default to the definition's. 409 WORKFLOW_KEY_CONFLICT when the key is"
    " taken.",
    response_model=None,
    responses={201: {"model": shapes.WorkflowWithDraft}, **error_responses(409, 413, 422)},
)
def create_workflow(
    body: CreateWorkflow,
    principal: Principal = Depends(require("workflow:write")),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    return service.create_workflow(
        uow,
        principal.tenant_id,
        actor=principal.key_id,
        key=body.key,
        name=body.name,
        payload_schema_ref=body.payloadSchemaRef,
        description=body.description,
        trigger=body.trigger,
        definition=body.definition,
        payload_schema_mode=body.payloadSchemaMode,
        pinned_payload_schema_ref=body.pinnedPayloadSchemaRef,
    )


@router.get(
    "",
    summary="List workflows",
    description="The tenant's workflows ordered by key, filtered by key prefix, status"
    " (draft or published) and paused state.",
    response_model=None,
    responses={200: {"model": list[shapes.Workflow]}, **error_responses()},
)
def list_workflows(
    keyPrefix: str | None = Query(None, max_length=200),
    status: str | None = Query(None, pattern="^(draft|published)$"),
    paused: bool | None = None,
    principal: Principal = Depends(require("workflow:read")),
    uow: UnitOfWork = Depends(get_uow),
) -> list[dict[str, Any]]:
    return service.list_workflows(
        uow, principal.tenant_id, key_prefix=keyPrefix, status=status, paused=paused
    )


@router.get(
    "/{workflowId}",
    summary="Show a workflow",
    description="One workflow with its draft definition; 404 for an unknown id (or another"
    " tenant's).",
    response_model=None,
    responses={200: {"model": shapes.WorkflowWithDraft}, **error_responses(404)},
)
def get_workflow(
    workflowId: str,
    principal: Principal = Depends(require("workflow:read")),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    return service.get_workflow(uow, principal.tenant_id, workflowId)


@router.delete(
    "/{workflowId}",
    status_code=204,
    summary="Delete a workflow",
    description="Deletes the workflow, its draft and every published version. 409 while runs"
    " of it are not finished.",
    responses=error_responses(404, 409),
)
def delete_workflow(
    workflowId: str,
    principal: Principal = Depends(require("workflow:write")),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    service.delete_workflow(uow, principal.tenant_id, workflowId)
    return Response(status_code=204)


@router.get(
    "/{workflowId}/versions",
    summary="List published versions",
    description="The workflow's published versions, newest first (without their definitions).",
    response_model=None,
    responses={200: {"model": list[shapes.WorkflowVersion]}, **error_responses(404)},
)
def list_versions(
    workflowId: str,
    principal: Principal = Depends(require("workflow:read")),
    uow: UnitOfWork = Depends(get_uow),
) -> list[dict[str, Any]]:
    return service.list_versions(uow, principal.tenant_id, workflowId)


@router.put(
    "/{workflowId}/metadata",
    summary="Change a workflow's settings",
    description="Pause or resume, visibility, concurrency, auto-pause on failure, payload schema"
    " mode and retention: only the fields given change. Answers the workflow.",
    response_model=None,
    responses={200: {"model": shapes.Workflow}, **error_responses(404, 409, 413, 422)},
)
def update_metadata(
    workflowId: str,
    body: UpdateMetadata,
    principal: Principal = Depends(require("workflow:write")),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    return service.update_metadata(
        uow, principal.tenant_id, workflowId, changes, actor=principal.key_id
    )


@router.get(
    "/{workflowId}/{version}",
    summary="Show a definition",
    description="The draft when version is the draft version, else that published version with"
    " its definition and payload schema snapshot.",
    response_model=None,
    responses={200: {"model": shapes.WorkflowVersion}, **error_responses(404)},
)
def get_definition(
    workflowId: str,
    version: VersionPath,
    principal: Principal = Depends(require("workflow:read")),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    """The draft when ``version`` is the draft version, else that published version."""
    return service.get_definition(uow, principal.tenant_id, workflowId, version)


@router.put(
    "/{workflowId}/{version}",
    summary="Replace the draft",
    description="Replaces the draft definition. version must be the current draft version (an"
    " optimistic lock): another is 409 DRAFT_VERSION_CONFLICT.",
    response_model=None,
    responses={200: {"model": shapes.WorkflowWithDraft}, **error_responses(404, 409, 413, 422)},
)
def replace_draft(
    workflowId: str,
    version: VersionPath,
    body: ReplaceDraft,
    principal: Principal = Depends(require("workflow:write")),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    """Replace the draft; ``version`` must be the current draft version (optimistic lock)."""
    return service.replace_draft(
        uow, principal.tenant_id, workflowId, version, body.definition, actor=principal.key_id
    )


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    definition: dict[str, Any] | None = None


class ValidateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    definition: dict[str, Any]
    payloadSchemaMode: str = "pinned"


@router.post(
    "/validate",
    summary="Validate a definition",
    description="Publish validation of a definition against this instance's registry, storing"
    " nothing: ok, and the errors and warnings publishing would report.",
    response_model=None,
    responses={200: {"model": shapes.Validation}, **error_responses(413, 422)},
)
def validate(
    body: ValidateRequest,
    principal: Principal = Depends(require("workflow:read")),
    registry: Registry = Depends(get_registry),
) -> dict[str, Any]:
    """Publish validation of a definition without storing anything: ``{ok, errors, warnings}``."""
    return service.validate(registry, body.definition, payload_schema_mode=body.payloadSchemaMode)


@router.post(
    "/{workflowId}/{version}/publish",
    summary="Publish a version",
    description="Validates the draft (or the definition given) and publishes it as a new"
    " immutable version. version is a lower bound: the new version is the next free one at"
    " or above it. Validation errors come back as data with ok false, not as an error status.",
    response_model=None,
    responses={200: {"model": shapes.Published}, **error_responses(404, 409, 413, 422)},
)
def publish(
    workflowId: str,
    version: VersionPath,
    body: PublishRequest | None = None,
    principal: Principal = Depends(require("workflow:publish")),
    registry: Registry = Depends(get_registry),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    """Publish the draft (or the given definition); errors come back as data with ``ok: false``."""
    return service.publish(
        uow,
        principal.tenant_id,
        workflowId,
        registry=registry,
        version=version,
        definition=body.definition if body else None,
        actor=principal.key_id,
    )
