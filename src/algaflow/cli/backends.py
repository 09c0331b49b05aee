"""Where a command's work happens: the database in this process, or a server over HTTP.

Both backends answer with the same JSON documents (the views the HTTP routes return) and the
same :class:`AlgaflowError` codes, so a command prints the same thing whichever one it is given.
Each method is one service call (:class:`LocalBackend`) or one HTTP request to the route that
makes that call (:class:`RemoteBackend`); commands pick neither, ``common.open_backend`` does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import cached_property
from typing import Any, Protocol
from urllib.parse import quote

from sqlalchemy.engine import Engine

from algaflow.bundle.export import export_bundle_bytes
from algaflow.bundle.importer import import_bundle
from algaflow.config import Settings
from algaflow.definitions.publish import publish_workflow
from algaflow.definitions.views import workflow_view
from algaflow.errors import AlgaflowError
from algaflow.registry import Registry
from algaflow.runtime import service
from algaflow.store import workflows as store
from algaflow.store.engine import write_transaction
from algaflow.store.tenants import DEFAULT_TENANT_NAME

from .client import ApiClient
from .database import load_registry, open_engine, resolve_tenant

Json = dict[str, Any]
Progress = Callable[[int, int], None]


class Backend(Protocol):
    #: Whether :meth:`import_bundle` calls ``progress`` as workflows are imported.
    reports_progress: bool

    def close(self) -> None: ...

    def list_workflows(
        self, *, key_prefix: str | None, status: str | None, paused: bool | None
    ) -> list[Json]: ...

    def get_workflow(self, workflow_id: str) -> Json: ...

    def find_workflow_by_key(self, key: str) -> Json | None: ...

    def create_workflow(
        self, *, key: str, name: str | None, payload_schema_ref: str | None, definition: Any
    ) -> Json: ...

    def delete_workflow(self, workflow_id: str) -> None: ...

    def publish_workflow(self, workflow_id: str, *, version: int | None, definition: Any) -> Json:
        """``version`` is a lower bound: ``None`` publishes the next version."""
        ...

    def start_run(self, workflow_id: str, *, version: int | None, payload: Any) -> Json: ...

    def get_run(self, run_id: str) -> Json: ...

    def list_runs(
        self, *, workflow_id: str | None, status: str | None, limit: int
    ) -> list[Json]: ...

    def cancel_run(self, run_id: str) -> Json: ...

    def emit_event(
        self,
        name: str,
        payload: Any,
        *,
        correlation_key: str | None,
        payload_schema_ref: str | None,
        event_id: str | None,
    ) -> Json: ...

    def list_tasks(self, *, status: str, run_id: str | None) -> list[Json]: ...

    def complete_task(self, task_id: str, output: Any) -> Json: ...

    def export_bundle(
        self,
        *,
        workflow_ids: list[str] | None,
        keys: list[str] | None,
        all: bool,
        exported_at: str | None,
    ) -> bytes: ...

    def import_bundle(
        self, raw: bytes, bundle: Any, *, force: bool, dry_run: bool, progress: Progress | None
    ) -> Json:
        """Import ``bundle`` (parsed from ``raw``, the file's bytes, which a server gets as-is)."""
        ...


def find_workflow(backend: Backend, ref: str) -> Json:
    """A workflow (with its draft) by id, or by key when no workflow has that id."""
    if _is_uuid(ref):
        try:
            return backend.get_workflow(ref)
        except AlgaflowError as err:
            if err.code != "WORKFLOW_NOT_FOUND":
                raise
    found = backend.find_workflow_by_key(ref)
    if found is None:
        raise AlgaflowError(
            "WORKFLOW_NOT_FOUND",
            f'No workflow with id or key "{ref}"',
            status=404,
            details={"workflow": ref},
        )
    return found


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class LocalBackend:
    """The service functions on a database, in this process (opened on first use)."""

    reports_progress = True

    def __init__(self, settings: Settings, tenant: str | None) -> None:
        self._settings = settings
        self._tenant = tenant or DEFAULT_TENANT_NAME

    @cached_property
    def _engine(self) -> Engine:
        return open_engine(self._settings)

    @cached_property
    def _tenant_id(self) -> str:
        return resolve_tenant(self._engine, self._tenant)

    @cached_property
    def _registry(self) -> Registry:
        return load_registry(self._settings)

    def close(self) -> None:
        if "_engine" in self.__dict__:
            self._engine.dispose()

    def _read(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        tenant_id = self._tenant_id
        with self._engine.connect() as conn:
            return fn(conn, tenant_id, *args, **kwargs)

    def _write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        tenant_id = self._tenant_id
        with write_transaction(self._engine) as conn:
            return fn(conn, tenant_id, *args, **kwargs)

    def _durable(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """The ``*_durable`` services: they commit after every step, so they take the engine."""
        return fn(self._engine, self._tenant_id, *args, **kwargs)

    def list_workflows(
        self, *, key_prefix: str | None, status: str | None, paused: bool | None
    ) -> list[Json]:
        rows = self._read(store.list_workflows, key_prefix=key_prefix, status=status, paused=paused)
        return [workflow_view(r) for r in rows]

    def get_workflow(self, workflow_id: str) -> Json:
        return workflow_view(self._read(store.get_workflow, workflow_id), with_draft=True)

    def find_workflow_by_key(self, key: str) -> Json | None:
        row = self._read(store.find_workflow_by_key, key)
        return None if row is None else workflow_view(row, with_draft=True)

    def create_workflow(
        self, *, key: str, name: str | None, payload_schema_ref: str | None, definition: Any
    ) -> Json:
        row = self._write(
            store.create_workflow,
            key=key,
            name=name,
            payload_schema_ref=payload_schema_ref,
            definition=definition,
        )
        return workflow_view(row, with_draft=True)

    def delete_workflow(self, workflow_id: str) -> None:
        self._write(store.delete_workflow, workflow_id)

    def publish_workflow(self, workflow_id: str, *, version: int | None, definition: Any) -> Json:
        return self._write(
            publish_workflow,
            workflow_id,
            registry=self._registry,
            version=version,
            definition=definition,
        )

    def start_run(self, workflow_id: str, *, version: int | None, payload: Any) -> Json:
        return self._durable(
            service.start_run_durable,
            workflow_id,
            registry=self._registry,
            version=version,
            payload=payload,
        )

    def get_run(self, run_id: str) -> Json:
        return self._read(service.get_run, run_id)

    def list_runs(self, *, workflow_id: str | None, status: str | None, limit: int) -> list[Json]:
        return self._read(service.list_runs, workflow_id=workflow_id, status=status, limit=limit)

    def cancel_run(self, run_id: str) -> Json:
        return self._durable(service.cancel_run_durable, run_id)

    def emit_event(
        self,
        name: str,
        payload: Any,
        *,
        correlation_key: str | None,
        payload_schema_ref: str | None,
        event_id: str | None,
    ) -> Json:
        return self._durable(
            service.emit_event_durable,
            name,
            payload,
            registry=self._registry,
            correlation_key=correlation_key,
            payload_schema_ref=payload_schema_ref,
            event_id=event_id,
        )

    def list_tasks(self, *, status: str, run_id: str | None) -> list[Json]:
        return self._read(service.list_tasks, status=status, run_id=run_id)

    def complete_task(self, task_id: str, output: Any) -> Json:
        return self._durable(
            service.complete_task_durable, task_id, output, registry=self._registry
        )

    def export_bundle(
        self,
        *,
        workflow_ids: list[str] | None,
        keys: list[str] | None,
        all: bool,
        exported_at: str | None,
    ) -> bytes:
        return self._read(
            export_bundle_bytes,
            workflow_ids=workflow_ids,
            keys=keys,
            all=all,
            exported_at=exported_at,
        )

    def import_bundle(
        self, raw: bytes, bundle: Any, *, force: bool, dry_run: bool, progress: Progress | None
    ) -> Json:
        return self._write(
            import_bundle,
            bundle,
            registry=self._registry,
            force=force,
            dry_run=dry_run,
            progress=progress,
        )


_DEFINITIONS = "/api/workflow-definitions"
_RUNS = "/api/workflow-runs"


def _segment(value: str) -> str:
    """``value`` as one path segment, whatever it holds."""
    return quote(value, safe="")


def _present(**params: Any) -> dict[str, Any]:
    """Query parameters without the unset ones (httpx would send ``None`` as an empty value)."""
    return {name: value for name, value in params.items() if value is not None}


class RemoteBackend:
    """The HTTP routes of an algaflow server; the tenant is the API key's."""

    reports_progress = False

    def __init__(self, client: ApiClient) -> None:
        self._client = client

    def close(self) -> None:
        self._client.close()

    def _call(
        self, method: str, path: str, body: Any = None, *, params: dict[str, Any] | None = None
    ) -> Any:
        """One request; a JSON body is sent ASCII-escaped, so any string the local path accepts
        (even a lone surrogate) reaches the server unchanged."""
        content = None if body is None else json.dumps(body, allow_nan=False).encode("ascii")
        headers = {"Content-Type": "application/json"} if content is not None else None
        response = self._client.request(
            method, path, content=content, params=params, headers=headers
        )
        return response.json() if response.content else None

    def list_workflows(
        self, *, key_prefix: str | None, status: str | None, paused: bool | None
    ) -> list[Json]:
        params = _present(keyPrefix=key_prefix, status=status, paused=paused)
        return self._call("GET", _DEFINITIONS, params=params)

    def get_workflow(self, workflow_id: str) -> Json:
        return self._call("GET", f"{_DEFINITIONS}/{_segment(workflow_id)}")

    def find_workflow_by_key(self, key: str) -> Json | None:
        """The server finds by key prefix; the exact match, then its draft by id."""
        listed = self._call("GET", _DEFINITIONS, params={"keyPrefix": key})
        match = next((w for w in listed if w["key"] == key), None)
        return None if match is None else self.get_workflow(match["workflowId"])

    def create_workflow(
        self, *, key: str, name: str | None, payload_schema_ref: str | None, definition: Any
    ) -> Json:
        body = {"key": key, "name": name, "payloadSchemaRef": payload_schema_ref,
                "definition": definition}  # fmt: skip
        return self._call("POST", _DEFINITIONS, body)

    def delete_workflow(self, workflow_id: str) -> None:
        self._call("DELETE", f"{_DEFINITIONS}/{_segment(workflow_id)}")

    def publish_workflow(self, workflow_id: str, *, version: int | None, definition: Any) -> Json:
        # The route's version is a lower bound like the service's: 1 means "the next version".
        path = f"{_DEFINITIONS}/{_segment(workflow_id)}/{1 if version is None else version}"
        body = None if definition is None else {"definition": definition}
        return self._call("POST", f"{path}/publish", body)

    def start_run(self, workflow_id: str, *, version: int | None, payload: Any) -> Json:
        body = {"workflowId": workflow_id, "workflowVersion": version, "payload": payload}
        return self._call("POST", _RUNS, body)

    def get_run(self, run_id: str) -> Json:
        return self._call("GET", f"{_RUNS}/{_segment(run_id)}")

    def list_runs(self, *, workflow_id: str | None, status: str | None, limit: int) -> list[Json]:
        params = _present(workflowId=workflow_id, status=status, limit=limit)
        return self._call("GET", _RUNS, params=params)

    def cancel_run(self, run_id: str) -> Json:
        return self._call("POST", f"{_RUNS}/{_segment(run_id)}/cancel")

    def emit_event(
        self,
        name: str,
        payload: Any,
        *,
        correlation_key: str | None,
        payload_schema_ref: str | None,
        event_id: str | None,
    ) -> Json:
        body = {"eventName": name, "payload": payload, "correlationKey": correlation_key,
                "payloadSchemaRef": payload_schema_ref, "eventId": event_id}  # fmt: skip
        return self._call("POST", "/api/workflow/events", body)

    def list_tasks(self, *, status: str, run_id: str | None) -> list[Json]:
        params = _present(status=status, runId=run_id)
        return self._call("GET", "/api/workflow/tasks", params=params)

    def complete_task(self, task_id: str, output: Any) -> Json:
        return self._call("POST", "/api/workflow/tasks", {"taskId": task_id, "output": output})

    def export_bundle(
        self,
        *,
        workflow_ids: list[str] | None,
        keys: list[str] | None,
        all: bool,
        exported_at: str | None,
    ) -> bytes:
        """The server's bytes, verbatim: Alga's GET route for one id, else the POST route."""
        if workflow_ids and len(workflow_ids) == 1 and not exported_at:
            path = f"{_DEFINITIONS}/{_segment(workflow_ids[0])}/export"
            return self._client.request("GET", path).content
        body: Json = {"exportedAt": exported_at} if exported_at else {}
        if workflow_ids:
            body["workflowIds"] = workflow_ids
        elif keys:
            body["keys"] = keys
        else:
            body["all"] = all
        return self._client.request("POST", f"{_DEFINITIONS}/export", json=body).content

    def import_bundle(
        self, raw: bytes, bundle: Any, *, force: bool, dry_run: bool, progress: Progress | None
    ) -> Json:
        params = {name: "true" for name, on in (("force", force), ("dryRun", dry_run)) if on}
        response = self._client.request(
            "POST",
            f"{_DEFINITIONS}/import",
            content=raw,
            params=params,
            headers={"Content-Type": "application/json"},
        )
        return response.json()
