"""Answers as JSON lines (``application/x-ndjson``) for long operations that report progress.

A client that asks for it (``Accept: application/x-ndjson``) gets one line per step of the work,
``{"progress": {"step", "done", "total"}}``, and then the result as the last line:
``{"result": ...}``, or ``{"error": {code, error, details?, status}}`` with the status the plain
answer would have had (the 200 is sent with the first line, before the outcome is known).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.responses import StreamingResponse
from starlette.requests import Request

from algaflow.kernel.errors import AlgaflowError
from algaflow.store.failures import database_error

from .statuses import status_for

NDJSON = "application/x-ndjson"
#: Reports ``done`` of ``total`` items of a step.
Report = Callable[[int, int], None]

log = logging.getLogger(__name__)


def wants_lines(request: Request) -> bool:
    """Whether the client asked for progress lines rather than one JSON answer."""
    return NDJSON in request.headers.get("accept", "")


def lines_response(step: str, work: Callable[[Report], Any]) -> StreamingResponse:
    """Run ``work`` in a thread of its own and stream its reports, then its result or error."""
    return StreamingResponse(_lines(step, work), media_type=NDJSON)


def _lines(step: str, work: Callable[[Report], Any]) -> Iterator[bytes]:
    events: queue.Queue[bytes | None] = queue.Queue()

    def report(done: int, total: int) -> None:
        events.put(_line({"progress": {"step": step, "done": done, "total": total}}))

    def run() -> None:
        try:
            events.put(_line({"result": work(report)}))
        except Exception as exc:  # every failure is the last line, as its coded error
            events.put(_line({"error": _error_body(exc)}))
        finally:
            events.put(None)

    threading.Thread(target=run, name=f"{step}-lines", daemon=True).start()
    while (line := events.get()) is not None:
        yield line


def _error_body(exc: Exception) -> dict[str, Any]:
    error = exc if isinstance(exc, AlgaflowError) else database_error(exc)
    if error is None:
        log.exception("unexpected error", exc_info=exc)
        error = AlgaflowError("INTERNAL_ERROR", "Internal server error")
    return {**error.to_dict(), "status": status_for(error.code)}


def _line(value: Any) -> bytes:
    return json.dumps(value, allow_nan=False, separators=(",", ":")).encode("ascii") + b"\n"
