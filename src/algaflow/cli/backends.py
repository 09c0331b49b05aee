"""Where a command's work happens: the database in this process, or a server over HTTP.

Both backends answer with the same JSON documents (the views the HTTP routes return) and the
same :class:`AlgaflowError` codes, so a command prints the same thing whichever one it is given.
Each method is one service call (:class:`LocalBackend`) or one HTTP request to the route that
makes that call (:class:`RemoteBackend`); commands pick neither, ``common.open_backend`` does.
:class:`LocalBackend` lives in ``local`` with the database code it needs, so a command working on
a server never loads it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from algaflow.kernel.errors import AlgaflowError

if TYPE_CHECKING:
    from .client import ApiClient

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
            details={"workflow": ref},
        )
    return found


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


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
