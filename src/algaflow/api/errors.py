"""Every error answers ``{code, error, details?}`` plus RFC 9457 ``type``/``title``/``status``."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

from algaflow.kernel.errors import AlgaflowError
from algaflow.store.failures import database_error

from .statuses import status_for

log = logging.getLogger("algaflow.api")
PROBLEM_JSON = "application/problem+json"


class JSONBody(JSONResponse):
    """JSON that always encodes: a lone surrogate echoed from a request is escaped, not a 500."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


class Problem(BaseModel):
    """An error answer: RFC 9457 fields, Alga's ``error``/``details``, and the stable ``code``."""

    type: str
    title: str
    status: int
    code: str = Field(description="Stable error code; see the API guide's table of codes")
    error: str
    details: dict[str, Any] | None = None


_STATUS_MEANINGS = {
    400: "Invalid JSON, request or value (a coded problem)",
    401: "No API key, or not a valid one",
    403: "The API key lacks the permission",
    404: "Unknown id (or another tenant's), or nothing to export",
    405: "Method not allowed on this path (see the Allow header)",
    409: "Conflict with the stored state (key taken, stale draft version, concurrent import)",
    413: "Request body or payload over its size limit",
    422: "A field's value is refused (e.g. a definition that is not valid)",
    503: "Database busy, unavailable or in conflict: retry after Retry-After seconds",
}

#: What every operation that needs an API key may answer: a bad request (a query parameter, a
#: body nested too deep), no key or not a valid one, a missing permission, a busy database.
AUTHENTICATED = (400, 401, 403, 503)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented error answers of one operation: :data:`AUTHENTICATED` and ``statuses``,
    each an ``application/problem+json`` :class:`Problem`."""
    return {
        status: {
            "model": Problem,
            "description": _STATUS_MEANINGS[status],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in sorted({*AUTHENTICATED, *statuses})
    }


def problem(
    error: AlgaflowError,
    headers: Mapping[str, str] | None = None,
    *,
    status: int | None = None,
) -> JSONResponse:
    """The answer to ``error``: its code's status from :mod:`.statuses` unless ``status`` is given
    (only for Starlette's own HTTP errors, whose status is decided before any code)."""
    status = status_for(error.code) if status is None else status
    body: dict[str, Any] = {
        "type": f"https://algaflow.dev/errors/{error.code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        **error.to_dict(),
    }
    fixed = {401: {"WWW-Authenticate": "Bearer"}, 503: {"Retry-After": "1"}}.get(status, {})
    return JSONBody(
        body,
        status_code=status,
        media_type=PROBLEM_JSON,
        headers={**(headers or {}), **fixed},
    )


def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    issues = [
        {"path": "/".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
        for e in exc.errors()
    ]
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return problem(AlgaflowError("INVALID_JSON", "Request body is not valid JSON."))
    return problem(AlgaflowError("INVALID_REQUEST", "Invalid request", details={"issues": issues}))


_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette's own header names one route's)."""
    routes: list[BaseRoute] = request.app.router.routes
    return ", ".join(
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    )


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    # Bodies over the size or depth limit never get this far (app.BodyLimit, app.JsonDepthLimit).
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}.get(
        exc.status_code, "HTTP_ERROR"
    )
    # The exception's headers (Allow on a 405) are part of the answer.
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return problem(AlgaflowError(code, str(exc.detail)), headers, status=exc.status_code)


def _database_error(request: Request, exc: sa.exc.DBAPIError) -> JSONResponse:
    """A database failure no operation anticipated: coded (retryable where it is), never a 500."""
    error = database_error(exc)
    if error is None:
        return _unexpected(request, exc)
    log.warning("database failure answered %s: %s", error.code, exc)
    return problem(error)


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return problem(AlgaflowError("INTERNAL_ERROR", "Internal server error"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AlgaflowError, lambda _r, e: problem(e))
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(sa.exc.DBAPIError, _database_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
