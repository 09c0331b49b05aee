"""The loop of each backend's periodic work. For the embedded backend: resume due timers and
retries, time out event waits, continue runs nobody drives (new ones, and those a killed process
left RUNNING). For Temporal: start runs whose start was lost (Temporal's own workers execute the
runs, see ``algaflow worker``). ``algaflow worker`` runs it in the foreground; ``serve`` in a
thread."""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.engine import Engine

from algaflow.config import Settings, load_settings
from algaflow.runtime.embedded.driver import DriverOptions
from algaflow.services.backends import TEMPORAL, configured_backend, wait_for_work, wake_workers
from algaflow.services.unit_of_work import UnitOfWork

log = logging.getLogger("algaflow.worker")
DEFAULT_INTERVAL_S = 1.0


class StopEvent(threading.Event):
    """Set it to stop a worker loop; setting it wakes the loop at once."""

    def set(self) -> None:
        super().set()
        wake_workers()


def run_worker(
    engine: Engine,
    registry: Any,
    *,
    stop: threading.Event,
    interval_s: float = DEFAULT_INTERVAL_S,
    options: DriverOptions | None = None,
    settings: Settings | None = None,
    host_runs: bool = False,
) -> None:
    """Poll until ``stop`` is set, and whenever this process records new work. A failing pass
    is logged and retried, never fatal.

    With ``host_runs`` and the Temporal backend, this process also hosts Temporal workers (the
    workflow and its activities) until ``stop``: what ``algaflow worker`` does; ``serve`` only
    polls.
    """
    settings = settings or load_settings()
    backend = configured_backend(settings)
    if host_runs and backend.name == TEMPORAL:
        from algaflow.runtime.temporal.worker import serve_worker

        threading.Thread(
            target=serve_worker,
            args=(settings.temporal, engine, registry),
            kwargs={"stop": stop, "options": options},
            name="algaflow-temporal-worker",
            daemon=True,
        ).start()
    while not stop.is_set():
        try:
            backend.due_work(UnitOfWork(engine), registry=registry, options=options)
        except Exception:  # keep the worker alive through a database hiccup
            log.exception("due work failed; retrying in %ss", interval_s)
        wait_for_work(interval_s)


def start_background_worker(
    engine: Engine,
    registry: Any,
    *,
    interval_s: float = DEFAULT_INTERVAL_S,
    settings: Settings | None = None,
) -> threading.Event:
    """Start the loop on a daemon thread; set the returned event to stop it."""
    stop = StopEvent()
    thread = threading.Thread(
        target=run_worker,
        args=(engine, registry),
        kwargs={"stop": stop, "interval_s": interval_s, "settings": settings},
        name="algaflow-worker",
        daemon=True,
    )
    thread.start()
    return stop
