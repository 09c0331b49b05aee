"""Workflow definition routes (Alga's surface): create, list, read, drafts, metadata, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from algaflow.definitions.publish import publish_workflow, validate_for_publish
from algaflow.definitions.views import version_view, workflow_view
from algaflow.errors import AlgaflowError
from algaflow.registry import Registry
from algaflow.store import workflows as store

from ..deps import Principal, get_registry, read_conn, require, write_conn

router = APIRouter(prefix="/workflow-definitions", tags=["workflow-definitions"])
#: A version in a path: an int4 column, so anything else cannot exist (and would overflow SQL).
VersionPath = Annotated[int, Path(ge=1, le=store.INT4_MAX)]


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
    conn: Connection = Depends(write_conn),
) -> dict[str, Any]:
    row = store.create_workflow(
        conn,
        principal.tenant_id,
        key=body.key,
        name=body.name,
        payload_schema_ref=body.payloadSchemaRef,
        description=body.description,
        trigger=body.trigger,
        definition=body.definition,
        payload_schema_mode=body.payloadSchemaMode,
        pinned_payload_schema_ref=body.pinnedPayloadSchemaRef,
        actor=principal.key_id,
    )
    return workflow_view(row, with_draft=True)


@router.get("")
def list_workflows(
    keyPrefix: str | None = Query(None, max_length=200),
    status: str | None = Query(None, pattern="^(draft|published)$"),
    paused: bool | None = None,
    principal: Principal = Depends(require("workflow:read")),
    conn: Connection = Depends(read_conn),
) -> list[dict[str, Any]]:
    rows = store.list_workflows(
        conn, principal.tenant_id, key_prefix=keyPrefix, status=status, paused=paused
    )
    return [workflow_view(r) for r in rows]


@router.get("/{workflowId}")
def get_workflow(
    workflowId: str,
    principal: Principal = Depends(require("workflow:read")),
    conn: Connection = Depends(read_conn),
) -> dict[str, Any]:
    return workflow_view(store.get_workflow(conn, principal.tenant_id, workflowId), with_draft=True)


@router.delete("/{workflowId}", status_code=204)
def delete_workflow(
    workflowId: str,
    principal: Principal = Depends(require("workflow:write")),
    conn: Connection = Depends(write_conn),
) -> Response:
    store.delete_workflow(conn, principal.tenant_id, workflowId)
    return Response(status_code=204)


@router.get("/{workflowId}/versions")
def list_versions(
    workflowId: str,
    principal: Principal = Depends(require("workflow:read")),
    conn: Connection = Depends(read_conn),
) -> list[dict[str, Any]]:
    return [version_view(v) for v in store.list_versions(conn, principal.tenant_id, workflowId)]


@router.put("/{workflowId}/metadata")
def update_metadata(
    workflowId: str,
    body: UpdateMetadata,
    principal: Principal = Depends(require("workflow:write")),
    conn: Connection = Depends(write_conn),
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    row = store.update_metadata(
        conn, principal.tenant_id, workflowId, changes, actor=principal.key_id
    )
    return workflow_view(row, with_draft=True)


@router.get("/{workflowId}/{version}")
def get_definition(
    workflowId: str,
    version: VersionPath,
    principal: Principal = Depends(require("workflow:read")),
    conn: Connection = Depends(read_conn),
) -> dict[str, Any]:
    """The draft when ``version`` is the draft version, else that published version."""
    row = store.get_workflow(conn, principal.tenant_id, workflowId)
    if version == row["draft_version"]:
        return {
            "workflowId": row["workflow_id"],
            "version": version,
            "kind": "draft",
            "definition": row["draft_definition"],
        }
    published = store.get_version(conn, principal.tenant_id, workflowId, version)
    return {**version_view(published, with_definition=True), "kind": "published"}


@router.put("/{workflowId}/{version}")
def replace_draft(
    workflowId: str,
    version: VersionPath,
    body: ReplaceDraft,
    principal: Principal = Depends(require("workflow:write")),
    conn: Connection = Depends(write_conn),
) -> dict[str, Any]:
    """Replace the draft; ``version`` must be the current draft version (optimistic lock)."""
    current = store.get_workflow(conn, principal.tenant_id, workflowId)
    if version != current["draft_version"]:
        raise AlgaflowError(
            "DRAFT_VERSION_CONFLICT",
            f"Draft version is {current['draft_version']}, not {version}. Refresh and retry.",
            status=409,
            details={"draftVersion": current["draft_version"]},
        )
    row = store.replace_draft(
        conn, principal.tenant_id, workflowId, body.definition, actor=principal.key_id
    )
    return workflow_view(row, with_draft=True)


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
    return validate_for_publish(
        body.definition, registry, payload_schema_mode=body.payloadSchemaMode
    )


@router.post("/{workflowId}/{version}/publish")
def publish(
    workflowId: str,
    version: VersionPath,
    body: PublishRequest | None = None,
    principal: Principal = Depends(require("workflow:publish")),
    registry: Registry = Depends(get_registry),
    conn: Connection = Depends(write_conn),
) -> dict[str, Any]:
    """Publish the draft (or the given definition); errors come back as data with ``ok: false``."""
    return publish_workflow(
        conn,
        principal.tenant_id,
        workflowId,
        registry=registry,
        version=version,
        definition=body.definition if body else None,
        actor=principal.key_id,
    )
