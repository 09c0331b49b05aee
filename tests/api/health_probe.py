"""A second client that polls ``/healthz`` while a test sends hostile input to the same server.

The freeze tests require the server to stay responsive: every health check answers within a small
bound while the hostile request is in flight. The server runs in the test process, whose heap
holds everything earlier tests left behind: that heap is collected and frozen for the probe, so a
full garbage collection of it cannot pass for a freeze the hostile input caused.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx


@dataclass
class HealthProbe:
    """What the poller saw: each health check's latency in seconds (a failure counts as ``inf``)."""

    latencies: list[float] = field(default_factory=list)

    @property
    def worst(self) -> float:
        return max(self.latencies, default=0.0)


@contextmanager
def health_probe(
    base_url: str, *, interval: float = 0.05, timeout: float = 10.0
) -> Iterator[HealthProbe]:
    """Poll ``base_url/healthz`` from another thread until the block ends; yields the record."""
    probe = HealthProbe()
    stop = threading.Event()

    def poll() -> None:
        with httpx.Client(timeout=timeout) as client:
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    ok = client.get(base_url + "/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                probe.latencies.append(time.perf_counter() - started if ok else float("inf"))
                stop.wait(interval)

    gc.collect()
    gc.freeze()
    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield probe
    finally:
        stop.set()
        thread.join(timeout=timeout + 1)
        gc.unfreeze()
