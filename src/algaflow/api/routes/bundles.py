"""Bundle routes: canonical export (one or many workflows) and transactional import."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from algaflow.bundle import loads_json
from algaflow.bundle.export import export_bundle_bytes
from algaflow.bundle.importer import import_bundle
from algaflow.errors import AlgaflowError
from algaflow.registry import Registry

from ..deps import Principal, get_engine, get_registry, read_conn, require

router = APIRouter(prefix="/workflow-definitions", tags=["workflow-bundles"])
_admin = require("workflow:admin")
_DOWNLOAD_HEADERS = {"Content-Disposition": 'attachment; filename="workflow-bundle.json"'}
_BUNDLE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "A workflow bundle, format version 1 "
                    "(docs/schemas/workflow-bundle.v1.schema.json).",
                }
            }
        },
    }
}


def _bundle_response(data: bytes) -> Response:
    return Response(data, media_type="application/json; charset=utf-8", headers=_DOWNLOAD_HEADERS)


def parse_flag(value: str | None) -> bool:
    """Alga's query flags: ``1``/``true`` (any case) mean yes; anything else means no."""
    return value is not None and value.strip().lower() in ("1", "true")


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    workflowIds: list[str] | None = Field(None, max_length=10_000)
    keys: list[str] | None = Field(None, max_length=10_000)
    all: bool = False
    exportedAt: str | Literal["latest-change"] | None = Field(
        None, description='Pin exportedAt: an ISO timestamp, or "latest-change".'
    )


@router.get("/{workflowId}/export", response_class=Response)
def export_one(
    workflowId: str,
    exportedAt: str | None = Query(None, description='ISO timestamp or "latest-change"'),
    principal: Principal = Depends(_admin),
    conn: Any = Depends(read_conn),
) -> Response:
    data = export_bundle_bytes(
        conn, principal.tenant_id, workflow_ids=[workflowId], exported_at=exportedAt
    )
    return _bundle_response(data)


@router.post("/export", response_class=Response)
def export_many(
    body: ExportRequest,
    principal: Principal = Depends(_admin),
    conn: Any = Depends(read_conn),
) -> Response:
    chosen = [body.workflowIds is not None, body.keys is not None, body.all]
    if sum(chosen) != 1:
        raise AlgaflowError(
            "INVALID_REQUEST",
            'Give exactly one of "workflowIds", "keys" or "all": true.',
        )
    data = export_bundle_bytes(
        conn,
        principal.tenant_id,
        workflow_ids=body.workflowIds,
        keys=body.keys,
        all=body.all,
        exported_at=body.exportedAt,
    )
    return _bundle_response(data)


@router.post("/import", openapi_extra=_BUNDLE_BODY)
async def import_(
    request: Request,
    force: str | None = Query(None, description="1 or true to overwrite workflows by key"),
    dryRun: str | None = Query(None, description="1 or true to validate and roll back"),
    principal: Principal = Depends(_admin),
    engine: Engine = Depends(get_engine),
    registry: Registry = Depends(get_registry),
) -> dict[str, Any]:
    raw = await request.body()
    bundle = loads_json(raw)

    def run() -> dict[str, Any]:
        with engine.begin() as conn:
            return import_bundle(
                conn,
                principal.tenant_id,
                bundle,
                registry=registry,
                force=parse_flag(force),
                dry_run=parse_flag(dryRun),
                actor=None,
            )

    return await run_in_threadpool(run)
