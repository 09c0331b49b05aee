"""Read-only registry routes: what actions, node types and payload schemas this instance has."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import Registry

from ..deps import Principal, get_registry, require

router = APIRouter(prefix="/workflow/registry", tags=["registry"])


@router.get("/actions")
def list_actions(
    principal: Principal = Depends(require("workflow:read")),
    registry: Registry = Depends(get_registry),
) -> list[dict[str, Any]]:
    return [
        {
            "id": a.id,
            "version": a.version,
            "sideEffectful": a.side_effectful,
            "inputSchema": a.input_schema,
            "outputSchema": a.output_schema,
        }
        for a in registry.actions.list()
    ]


@router.get("/nodes")
def list_nodes(
    principal: Principal = Depends(require("workflow:read")),
    registry: Registry = Depends(get_registry),
) -> list[dict[str, Any]]:
    return [{"id": n.id, "configSchema": n.config_schema} for n in registry.nodes.list()]


@router.get("/schemas")
def list_schemas(
    principal: Principal = Depends(require("workflow:read")),
    registry: Registry = Depends(get_registry),
) -> list[str]:
    return registry.schemas.refs()


@router.get("/schemas/{ref}")
def get_schema(
    ref: str,
    principal: Principal = Depends(require("workflow:read")),
    registry: Registry = Depends(get_registry),
) -> dict[str, Any]:
    if not registry.schemas.has(ref):
        raise AlgaflowError("SCHEMA_NOT_FOUND", f'No payload schema "{ref}" is registered')
    return registry.schemas.to_json_schema(ref)
