"""The one client every workflow, run, event, task, bundle and registry command uses.

It speaks the HTTP API over any ``httpx.Client``: a real connection to a server, or the same
FastAPI app running in this process (``inprocess``), so both give the same answers by
construction. httpx is imported when a client is made (about 0.1 s), so ``--help`` and usage
errors never pay for it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from algaflow.kernel.errors import AlgaflowError

if TYPE_CHECKING:
    import httpx

Json = dict[str, Any]
#: Called with a step's name, how many of its items are done, and its total.
Progress = Callable[[str, int, int], None]
NDJSON = "application/x-ndjson"
DEFINITIONS = "/api/workflow-definitions"
RUNS = "/api/workflow-runs"


def segment(value: str) -> str:
    """``value`` as one path segment, whatever it holds."""
    return quote(value, safe="")


def present(**params: Any) -> dict[str, Any]:
    """Query parameters without the unset ones (httpx would send ``None`` as an empty value)."""
    return {name: value for name, value in params.items() if value is not None}


class ApiClient:
    """Calls the algaflow HTTP API; error bodies come back as :class:`AlgaflowError`."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    @classmethod
    def for_server(cls, base_url: str, api_key: str | None, *, timeout: float = 300.0) -> ApiClient:
        """A client of the server at ``base_url``."""
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        try:
            http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)
        except httpx.InvalidURL as exc:
            message = f"Invalid --base-url {base_url!r}: {exc}"
            raise AlgaflowError("INVALID_BASE_URL", message) from None
        return cls(http)

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; a failure answer is raised as its coded error."""
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise AlgaflowError(
                "SERVER_UNREACHABLE", f"Cannot reach {self._http.base_url}: {exc}"
            ) from None
        if response.is_success:
            return response
        raise _error_of(response)

    @contextmanager
    def streaming(
        self, method: str, path: str, body: Any = None, **kwargs: Any
    ) -> Iterator[httpx.Response]:
        """A request whose answer is read as it arrives (a big export); a failure answer is
        raised as its coded error before anything is read."""
        import httpx

        if body is not None:
            kwargs["content"] = json.dumps(body, allow_nan=False).encode("ascii")
            kwargs["headers"] = {"Content-Type": "application/json"}
        try:
            with self._http.stream(method, path, **kwargs) as response:
                if not response.is_success:
                    response.read()
                    raise _error_of(response)
                yield response
        except httpx.HTTPError as exc:
            raise AlgaflowError(
                "SERVER_UNREACHABLE", f"Cannot reach {self._http.base_url}: {exc}"
            ) from None

    def progress_lines(self, method: str, path: str, on_progress: Progress, **kwargs: Any) -> Any:
        """A request answered as progress lines (``Accept: application/x-ndjson``): each
        ``{"progress": {step, done, total}}`` line goes to ``on_progress`` as it arrives; the
        last line's ``result`` is returned, or its ``error`` raised as its coded error. A server
        that answers plain JSON instead is read as the result."""
        import httpx

        headers = {**(kwargs.pop("headers", None) or {}), "Accept": f"{NDJSON}, application/json"}
        try:
            with self._http.stream(method, path, headers=headers, **kwargs) as response:
                if not response.is_success:
                    response.read()
                    raise _error_of(response)
                if not response.headers.get("content-type", "").startswith(NDJSON):
                    return json.loads(response.read())
                for line in response.iter_lines():
                    if line.strip():
                        event = json.loads(line)
                        if "progress" in event:
                            step = event["progress"]
                            on_progress(step["step"], step["done"], step["total"])
                        elif "error" in event:
                            raise _error_of_body(event["error"], event["error"].get("status"))
                        else:
                            return event["result"]
        except httpx.HTTPError as exc:
            raise AlgaflowError(
                "SERVER_UNREACHABLE", f"Cannot reach {self._http.base_url}: {exc}"
            ) from None
        raise AlgaflowError("SERVER_UNREACHABLE", "The server's answer ended before its result.")

    def send(
        self, method: str, path: str, body: Any = None, *, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        """A request with a JSON body (if any), sent ASCII-escaped: any string a file or an
        argument holds (even a lone surrogate) reaches the server unchanged, to be accepted or
        refused with a code there."""
        content = None if body is None else json.dumps(body, allow_nan=False).encode("ascii")
        headers = {"Content-Type": "application/json"} if content is not None else None
        return self.request(method, path, content=content, params=params, headers=headers)

    def call(
        self, method: str, path: str, body: Any = None, *, params: dict[str, Any] | None = None
    ) -> Any:
        """:meth:`send`, and the answer's JSON (``None`` when empty)."""
        response = self.send(method, path, body, params=params)
        return response.json() if response.content else None

    def find_workflow(self, ref: str) -> Json:
        """A workflow (with its draft) by id, or by key when no workflow has that id."""
        if _is_uuid(ref):
            try:
                found: Json = self.call("GET", f"{DEFINITIONS}/{segment(ref)}")
                return found
            except AlgaflowError as err:
                if err.code != "WORKFLOW_NOT_FOUND":
                    raise
        listed = self.call("GET", DEFINITIONS, params={"keyPrefix": ref})
        match = next((w for w in listed if w["key"] == ref), None)
        if match is None:
            raise AlgaflowError(
                "WORKFLOW_NOT_FOUND",
                f'No workflow with id or key "{ref}"',
                details={"workflow": ref},
            )
        found = self.call("GET", f"{DEFINITIONS}/{segment(match['workflowId'])}")
        return found


def _error_of(response: httpx.Response) -> AlgaflowError:
    """The coded error of a failure answer."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):  # not an algaflow server, or a proxy's error page
        body = {}
    message = body.get("error") or response.text or response.reason_phrase
    return _error_of_body({**body, "error": message}, response.status_code)


def _error_of_body(body: Json, status: int | None) -> AlgaflowError:
    return AlgaflowError(
        body.get("code") or f"HTTP_{status}",
        body.get("error") or f"HTTP {status}",
        details=body.get("details"),
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
