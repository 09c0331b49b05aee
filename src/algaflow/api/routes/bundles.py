"""Bundle routes: canonical export (one or many workflows), import plans, transactional import
(optionally with bindings), and the environment-specific references of a bundle.

Export, import and references need ``workflow:admin`` (as in Alga), a plan ``workflow:read``; all
act on the key's tenant only: another tenant's workflow ids answer 404 like unknown ones. Errors
answer ``{code, error, details?}`` (errors.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from algaflow.bundle import loads_json
from algaflow.bundle.bindings import Bindings, bindings_value
from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import Registry
from algaflow.services import UnitOfWork
from algaflow.services import bundles as service
from algaflow.services import references as references_service
from algaflow.services.bundle_plans import ImportOptions

from ..bodies import MAX_JSON_DEPTH, bundle_value, check_export_keys
from ..deps import Principal, get_registry, get_uow, require
from ..errors import error_responses
from ..openapi import BUNDLE_COMPONENT, COMPONENTS
from ..progress_lines import NDJSON, Report, lines_response, wants_lines

router = APIRouter(prefix="/workflow-definitions", tags=["workflow-bundles"])
_admin = require("workflow:admin")
_reader = require("workflow:read")
WORKFLOW_COUNT = "X-Workflow-Count"
_DOWNLOAD_HEADERS = {"Content-Disposition": 'attachment; filename="workflow-bundle.json"'}


_BUNDLE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The bundle as canonical JSON (sorted keys, two-space indent, final LF).",
        "content": {"application/json": {"schema": {"$ref": f"{COMPONENTS}{BUNDLE_COMPONENT}"}}},
        "headers": {
            "Content-Disposition": {"schema": {"type": "string"}},
            WORKFLOW_COUNT: {
                "description": "How many workflows the bundle holds (for progress)",
                "schema": {"type": "integer"},
            },
        },
    },
}
_BUNDLE_BODY = {
    "requestBody": {
        "required": True,
        "description": "A workflow bundle, format version 1 (docs/schemas/workflow-bundle.v1"
        f".schema.json). Nesting deeper than {MAX_JSON_DEPTH} levels is refused with"
        " JSON_TOO_DEEP.",
        "content": {"application/json": {"schema": {"$ref": f"{COMPONENTS}{BUNDLE_COMPONENT}"}}},
    }
}


def _bundle_response(stream: service.ExportStream) -> Response:
    """Streams the bundle: errors were raised before the first piece; the pieces' own connection
    stays open until the last piece is sent. ``X-Workflow-Count`` announces how many workflows
    follow, for a client's progress."""
    headers = {**_DOWNLOAD_HEADERS, WORKFLOW_COUNT: str(stream.count)}
    return StreamingResponse(
        stream.pieces, media_type="application/json; charset=utf-8", headers=headers
    )


def parse_flag(value: str | None) -> bool:
    """Alga's query flags: ``1``/``true`` (any case) mean yes; anything else means no."""
    return value is not None and value.strip().lower() in ("1", "true")


class ExportRequest(BaseModel):
    """Exactly one of ``workflowIds``, ``keys`` or ``all: true``."""

    model_config = ConfigDict(extra="forbid")
    workflowIds: list[str] | None = Field(None, max_length=10_000)
    keys: list[str] | None = Field(None, max_length=10_000)
    all: bool = False
    exportedAt: str | None = Field(
        None, description='Pin exportedAt: an ISO timestamp, or "latest-change".'
    )


class WorkflowRef(BaseModel):
    key: str
    workflowId: str


class VersionsCreated(WorkflowRef):
    versions: list[int]


class WorkflowImported(VersionsCreated):
    action: str = Field(description='"created" or "overwritten"')


class ImportWarning(BaseModel):
    """A coded warning: a draft calling a workflow that will not exist, a raised draft
    version, a reference the tenant lacks or cannot check, an unused binding."""

    model_config = ConfigDict(extra="allow")
    code: str
    workflowKey: str | None = None
    message: str
    stepPath: str | None = None
    instancePath: str | None = None


class FieldChangeAnswer(BaseModel):
    field: str
    old: Any
    new: Any


class VersionChanges(BaseModel):
    added: list[int]
    removed: list[int]
    changed: list[int]


class RunAtRisk(BaseModel):
    runId: str
    workflowId: str
    workflowVersion: int
    status: str
    key: str | None = Field(None, description="In the plan's own list only")


class WorkflowChangeAnswer(BaseModel):
    key: str
    action: str = Field(description='"create", "update", "unchanged" or "delete"')
    workflowId: str
    fields: list[FieldChangeAnswer]
    draft: list[dict[str, Any]] = Field(description="RFC 6902 operations on the draft definition")
    versions: VersionChanges
    deletedVersions: list[int]
    references: list[dict[str, Any]] = Field(description="callWorkflow ids the import rewrites")
    runsAtRisk: list[RunAtRisk]


class PruneScope(BaseModel):
    enabled: bool
    keyPrefix: str | None


class FoundReferenceAnswer(BaseModel):
    workflowKey: str | None
    version: int | str = Field(description='"draft" or a published version number')
    path: str
    stepPath: str
    kind: str
    value: str


class ImportPlan(BaseModel):
    """What an import changes, per workflow key (the bundle guide, "Plan")."""

    workflows: list[WorkflowChangeAnswer]
    counts: dict[str, int]
    changes: bool
    summary: str
    force: bool
    prune: PruneScope
    needsForce: list[str]
    runsAtRisk: list[RunAtRisk]
    references: list[FoundReferenceAnswer] | None = Field(
        None, description="The bundle's environment-specific references, after the bindings"
    )
    substitutions: list[dict[str, Any]] | None = Field(
        None, description="Each value the bindings replace: the reference and its target"
    )
    referenceWarnings: list[dict[str, Any]] | None = Field(
        None, description="References the tenant lacks or cannot check, unused bindings"
    )


class ReferenceReportAnswer(BaseModel):
    references: list[FoundReferenceAnswer]
    bindingsTemplate: dict[str, dict[str, str]]


class ImportSummary(BaseModel):
    """Alga's three lists plus algaflow's per-workflow list, warnings and the dry-run flag."""

    createdWorkflows: list[WorkflowRef]
    deletedWorkflows: list[WorkflowRef]
    createdPublishedVersions: list[VersionsCreated]
    workflows: list[WorkflowImported]
    warnings: list[ImportWarning]
    dryRun: bool
    plan: ImportPlan = Field(description="What the import changed (or, dry, would change)")


@router.get(
    "/{workflowId}/export",
    response_class=Response,
    summary="Export one workflow",
    description="One workflow, its draft and every published version, as a canonical bundle"
    " (Alga's route). exportedAt pins the header's time.",
    responses={**_BUNDLE_RESPONSE, **error_responses(404)},
)
def export_one(
    workflowId: str,
    exportedAt: str | None = Query(None, description='ISO timestamp or "latest-change"'),
    principal: Principal = Depends(_admin),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    """One workflow as a canonical bundle (Alga's route)."""
    pieces = service.stream_export(
        uow, principal.tenant_id, workflow_ids=[workflowId], exported_at=exportedAt
    )
    return _bundle_response(pieces)


@router.post(
    "/export",
    response_class=Response,
    summary="Export workflows",
    description="Several workflows (by id, by key, or all of the tenant's) as one canonical"
    " bundle; 404 when one is unknown or there is none.",
    responses={**_BUNDLE_RESPONSE, **error_responses(404, 413)},
)
def export_many(
    body: ExportRequest,
    principal: Principal = Depends(_admin),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    """Several workflows (by id, by key, or all of the tenant's) as one canonical bundle."""
    chosen = [body.workflowIds is not None, body.keys is not None, body.all]
    if sum(chosen) != 1:
        raise AlgaflowError(
            "INVALID_REQUEST",
            'Give exactly one of "workflowIds", "keys" or "all": true.',
        )
    check_export_keys(body.keys)
    pieces = service.stream_export(
        uow,
        principal.tenant_id,
        workflow_ids=body.workflowIds,
        keys=body.keys,
        all=body.all,
        exported_at=body.exportedAt,
    )
    return _bundle_response(pieces)


_FORCE = Query(None, description="1 or true (any case) to overwrite by key")
_PRUNE = Query(None, description="1 or true to delete the workflows the bundle does not hold")
_PRUNE_PREFIX = Query(None, description="Limit the prune to keys starting with this prefix")


def _options(
    force: str | None, prune: str | None, prune_prefix: str | None, accept: str | None = None
) -> ImportOptions:
    return ImportOptions(
        force=parse_flag(force),
        prune=parse_flag(prune),
        prune_prefix=prune_prefix,
        accept_broken_runs=parse_flag(accept),
    )


@router.post(
    "/import/plan",
    summary="Plan an import",
    description="What importing the body (a bundle) with the same force/prune options would"
    " change, per workflow key: create, update (with each field, the draft as JSON Patch, the"
    " versions), unchanged, delete (prune); active runs at risk. The import's own checks run"
    " first and answer the same errors. Needs workflow:read; writes nothing.",
    openapi_extra=_BUNDLE_BODY,
    response_model=None,
    responses={200: {"model": ImportPlan}, **error_responses(409, 413, 422)},
)
async def plan(
    request: Request,
    force: str | None = _FORCE,
    prune: str | None = _PRUNE,
    prunePrefix: str | None = _PRUNE_PREFIX,
    principal: Principal = Depends(_reader),
    uow: UnitOfWork = Depends(get_uow),
    registry: Registry = Depends(get_registry),
) -> dict[str, Any]:
    """What importing the body (a bundle, or ``{"bundle", "bindings"}``) would change, per
    workflow key; writes nothing."""
    raw = await request.body()
    options = _options(force, prune, prunePrefix)
    settings = request.app.state.settings

    def run() -> dict[str, Any]:
        bundle, bindings = _import_body(loads_json(raw))
        reference_options = references_service.ReferenceOptions(
            bindings=bindings, secrets=references_service.secret_source(settings)
        )
        return service.plan_bundle(
            uow,
            principal.tenant_id,
            bundle,
            options,
            registry=registry,
            reference_options=reference_options,
        )

    return await run_in_threadpool(run)


@router.post(
    "/import",
    summary="Import a bundle",
    description="Checks the bundle (header, schema, definitions, dependencies, references), then"
    " writes every workflow in one transaction, or nothing. Create-only unless force (overwrite"
    " by key); dryRun checks and rolls back. 400 for an invalid bundle or missing dependencies,"
    " 409 when a key exists without force.",
    openapi_extra=_BUNDLE_BODY,
    response_model=None,
    responses={
        200: {
            "model": ImportSummary,
            "content": {NDJSON: {"schema": {"type": "string"}}},
            "description": "The summary; with Accept: application/x-ndjson, progress lines"
            ' ({"progress": {step, done, total}}) and then {"result": <summary>} or'
            ' {"error": {code, error, details?, status}}.',
        },
        **error_responses(409, 413, 422),
    },
)
async def import_(
    request: Request,
    force: str | None = _FORCE,
    dryRun: str | None = Query(None, description="1 or true (any case) to check and roll back"),
    prune: str | None = _PRUNE,
    prunePrefix: str | None = _PRUNE_PREFIX,
    acceptBrokenRuns: str | None = Query(
        None, description="1 or true to import even when active runs' versions are deleted"
    ),
    allowUnresolved: str | None = Query(
        None, description="1 or true (any case): references the tenant lacks become warnings"
    ),
    principal: Principal = Depends(_admin),
    uow: UnitOfWork = Depends(get_uow),
    registry: Registry = Depends(get_registry),
) -> dict[str, Any] | Response:
    """Import the body in one transaction; 200 with the summary, or a coded error.

    The body is a bundle, or ``{"bundle": <bundle>, "bindings": <bindings>}`` to bind its
    environment-specific references first (docs/guides/workflows/workflow-import-export.md).
    With ``Accept: application/x-ndjson`` the answer is progress lines, one per workflow
    prepared, then the summary (or the coded error) as the last line (progress_lines.py).
    """
    raw = await request.body()
    options = _options(force, prune, prunePrefix, acceptBrokenRuns)
    settings = request.app.state.settings

    def run(report: Report | None = None) -> dict[str, Any]:
        # Parsing and every check that needs no database run before the write transaction. The
        # app's body guard has measured the nesting already (app.JsonDepthLimit).
        bundle, bindings = _import_body(loads_json(raw))
        reference_options = references_service.ReferenceOptions(
            bindings=bindings,
            allow_unresolved=parse_flag(allowUnresolved),
            secrets=references_service.secret_source(settings),
        )
        return service.import_bundle(
            uow,
            principal.tenant_id,
            bundle,
            registry=registry,
            options=options,
            dry_run=parse_flag(dryRun),
            actor=principal.key_id,
            progress=report,
            reference_options=reference_options,
        )

    if wants_lines(request):
        return lines_response("import", run)
    return await run_in_threadpool(run)


def _import_body(value: Any) -> tuple[Any, Bindings | None]:
    """``(bundle, bindings)`` of an import body: a bundle (Alga's body), or the envelope
    ``{"bundle": ..., "bindings": ...}`` (told apart by its ``bundle`` member)."""
    if isinstance(value, dict) and "bundle" in value and "format" not in value:
        extra = sorted(set(value) - {"bundle", "bindings"})
        if extra:
            raise AlgaflowError(
                "INVALID_REQUEST",
                f"An import envelope holds only bundle and bindings, not {', '.join(extra)}.",
            )
        bindings = value.get("bindings")
        return bundle_value(value["bundle"]), None if bindings is None else bindings_value(bindings)
    return bundle_value(value), None


@router.post(
    "/references",
    summary="List a bundle's environment-specific references",
    description="Every literal value of a reference-marked action input, every $secret name and"
    " every call to a workflow outside the bundle (workflow key, version, JSON path, kind, value),"
    " and a bindings template binding each value to itself. Writes nothing.",
    openapi_extra=_BUNDLE_BODY,
    response_model=None,
    responses={200: {"model": ReferenceReportAnswer}, **error_responses(413, 422)},
)
def references(
    body: dict[str, Any],
    principal: Principal = Depends(_admin),
    registry: Registry = Depends(get_registry),
) -> dict[str, Any]:
    """The body's environment-specific references (workflow key, version, JSON path, kind,
    value) and a bindings template binding each value to itself."""
    return references_service.list_references(body, registry).as_json()
