"""Workflow definition routes (Alga's surface): create, list, read, drafts, metadata, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from algaflow.kernel.storable import INT4_MAX
from algaflow.registry import Registry
from algaflow.services import UnitOfWork
from algaflow.services import definitions as service

from ..deps import Principal, get_registry, get_uow, require

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


@router.post("", status_code=201)
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


@router.get("")
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


@router.get("/{workflowId}")
def get_workflow(
    workflowId: str,
    principal: Principal = Depends(require("workflow:read")),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    return service.get_workflow(uow, principal.tenant_id, workflowId)


@router.delete("/{workflowId}", status_code=204)
def delete_workflow(
    workflowId: str,
    principal: Principal = Depends(require("workflow:write")),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    service.delete_workflow(uow, principal.tenant_id, workflowId)
    return Response(status_code=204)


@router.get("/{workflowId}/versions")
def list_versions(
    workflowId: str,
    principal: Principal = Depends(require("workflow:read")),
    uow: UnitOfWork = Depends(get_uow),
) -> list[dict[str, Any]]:
    return service.list_versions(uow, principal.tenant_id, workflowId)


@router.put("/{workflowId}/metadata")
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


@router.get("/{workflowId}/{version}")
def get_definition(
    workflowId: str,
    version: VersionPath,
    principal: Principal = Depends(require("workflow:read")),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    """The draft when ``version`` is the draft version, else that published version."""
    return service.get_definition(uow, principal.tenant_id, workflowId, version)


@router.put("/{workflowId}/{version}")
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


@router.post("/validate")
def validate(
    body: ValidateRequest,
    principal: Principal = Depends(require("workflow:read")),
    registry: Registry = Depends(get_registry),
) -> dict[str, Any]:
    """Publish validation of a definition without storing anything: ``{ok, errors, warnings}``."""
    return service.validate(registry, body.definition, payload_schema_mode=body.payloadSchemaMode)


@router.post("/{workflowId}/{version}/publish")
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
