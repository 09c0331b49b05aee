"""Read-only registry routes: what actions, node types and payload schemas this instance has."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from algaflow.registry import Registry
from algaflow.services import catalog
from algaflow.services.catalog import ActionView, NodeTypeView

from ..deps import Principal, get_registry, require
from ..errors import error_responses
from ..responses import JsonSchemaDocument

router = APIRouter(prefix="/workflow/registry", tags=["registry"])
_read = require("workflow:read")


class Action(BaseModel):
    id: str
    version: int
    sideEffectful: bool = Field(description="Whether running it changes something outside")
    title: str | None = None
    description: str | None = None
    inputSchema: dict[str, Any] = Field(description="JSON Schema of the action's input")
    outputSchema: dict[str, Any] = Field(description="JSON Schema of the action's output")

    @classmethod
    def of(cls, view: ActionView) -> Action:
        return cls(
            id=view.id, version=view.version, sideEffectful=view.side_effectful,
            title=view.title, description=view.description,
            inputSchema=view.input_schema, outputSchema=view.output_schema,
        )  # fmt: skip


class NodeType(BaseModel):
    id: str = Field(description='The step "type"')
    kind: str = Field(description='"node" (a registered node type) or "control" (a block)')
    configSchema: dict[str, Any] | None = Field(
        None, description="JSON Schema of a node step's config"
    )
    fields: dict[str, bool] | None = Field(
        None, description="A control block's fields, each true when required"
    )

    @classmethod
    def of(cls, view: NodeTypeView) -> NodeType:
        return cls(id=view.id, kind=view.kind, configSchema=view.config_schema, fields=view.fields)


@router.get(
    "/actions",
    summary="List actions",
    responses=error_responses(),
    description="Every registered action version with its input and output JSON Schemas.",
)
def list_actions(
    principal: Principal = Depends(_read), registry: Registry = Depends(get_registry)
) -> list[Action]:
    return [Action.of(a) for a in catalog.list_actions(registry)]


@router.get(
    "/actions/{actionId}",
    summary="Show an action",
    responses=error_responses(404),
    description="One action with its input and output JSON Schemas: the given version, else the"
    " latest. 404 ACTION_NOT_FOUND names the versions that exist.",
)
def show_action(
    actionId: str,
    version: int | None = Query(None, ge=1, description="The version (default: the latest)"),
    principal: Principal = Depends(_read),
    registry: Registry = Depends(get_registry),
) -> Action:
    return Action.of(catalog.show_action(registry, actionId, version))


@router.get(
    "/nodes",
    summary="List step types",
    responses=error_responses(),
    description="The registered node types with their config schemas, then every control.*"
    " block with its fields.",
)
def list_nodes(
    principal: Principal = Depends(_read), registry: Registry = Depends(get_registry)
) -> list[NodeType]:
    return [NodeType.of(n) for n in catalog.list_node_types(registry)]


@router.get(
    "/schemas",
    summary="List payload schemas",
    responses=error_responses(),
    description="The refs of every registered payload schema, sorted.",
)
def list_schemas(
    principal: Principal = Depends(_read), registry: Registry = Depends(get_registry)
) -> list[str]:
    return catalog.list_schema_refs(registry)


@router.get(
    "/schemas/{ref}",
    summary="Show a payload schema",
    response_model=None,
    responses={200: {"model": JsonSchemaDocument}, **error_responses(404)},
    description="A payload schema as JSON Schema; 404 SCHEMA_NOT_FOUND when none has this ref.",
)
def get_schema(
    ref: str, principal: Principal = Depends(_read), registry: Registry = Depends(get_registry)
) -> dict[str, Any]:
    return catalog.schema_of(registry, ref)
