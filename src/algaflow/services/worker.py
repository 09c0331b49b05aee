"""The loop that resumes due timers and retries, times out event waits and continues runs a killed
process left RUNNING. ``algaflow worker`` runs it in the foreground; ``serve`` in a thread."""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.engine import Engine

from algaflow.runtime.embedded.driver import DriverOptions
from algaflow.services.due_work import run_due_work
from algaflow.services.unit_of_work import UnitOfWork

log = logging.getLogger("algaflow.worker")
DEFAULT_INTERVAL_S = 1.0


def run_worker(
    engine: Engine,
    registry: Any,
    *,
    stop: threading.Event,
    interval_s: float = DEFAULT_INTERVAL_S,
    options: DriverOptions | None = None,
) -> None:
    """Poll until ``stop`` is set. A failing pass is logged and retried, never fatal."""
    while not stop.is_set():
        try:
            run_due_work(UnitOfWork(engine), registry=registry, options=options)
        except Exception:  # keep the worker alive through a database hiccup
            log.exception("run_due_work failed; retrying in %ss", interval_s)
        stop.wait(interval_s)


def start_background_worker(
    engine: Engine, registry: Any, *, interval_s: float = DEFAULT_INTERVAL_S
) -> threading.Event:
    """Start the loop on a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        args=(engine, registry),
        kwargs={"stop": stop, "interval_s": interval_s},
        name="algaflow-worker",
        daemon=True,
    )
    thread.start()
    return stop
