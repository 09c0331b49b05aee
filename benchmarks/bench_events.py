"""Event latency with 1 vs many published workflows (an event no trigger names, and one that
starts one run), on SQLite and PostgreSQL, side by side with the ratio; then the request rate of
``POST /api/workflow/events`` as a ratio of ``GET /healthz`` on the same uvicorn server.

With the indexed trigger lookup the ratio stays near 1: the event reads only the workflows whose
trigger names it. PostgreSQL is the server of ``ALGAFLOW_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/algaflow_bench``), in a database named after it
with ``_events`` appended; it is skipped with a message when unreachable.

The HTTP rates are sequential requests from one client, in alternating rounds (healthz, then
each event kind), medians of the per-round rates.

    python benchmarks/bench_events.py [--workflows 1000] [--repeat 15] [--rounds 5]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from sqlalchemy.engine import Engine

from algaflow.api.app import create_app
from algaflow.config import Settings
from algaflow.registry import Registry, default_registry
from algaflow.services.events import emit_event
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store import migrate
from algaflow.store.api_keys import PERMISSIONS, create_api_key
from algaflow.store.tables import workflow_definitions
from algaflow.store.tenants import create_tenant
from algaflow.store.workflows import create_workflow, insert_version

try:
    from benchmarks.databases import each_database
    from benchmarks.timing import median_seconds
except ImportError:  # run as a script
    from databases import each_database  # type: ignore[no-redef]
    from timing import median_seconds  # type: ignore[no-redef]

SCHEMA = "payload.BenchEvent.v1"


def registry() -> Registry:
    reg = default_registry()
    reg.schemas.register(SCHEMA, {"type": "object"})
    return reg


def publish(conn: Any, tenant: str, key: str, event_name: str) -> None:
    """One published workflow whose trigger names ``event_name`` (one ``state.set`` step)."""
    trigger = {"type": "event", "eventName": event_name}
    body = {"id": "x", "version": 1, "name": key, "payloadSchemaRef": SCHEMA, "trigger": trigger,
            "steps": [{"id": "s", "type": "state.set", "config": {"state": "DONE"}}]}  # fmt: skip
    wf = create_workflow(conn, tenant, key=key, definition=body)["workflow_id"]
    insert_version(conn, tenant, wf, version=1, definition_json={**body, "id": wf})
    conn.execute(
        workflow_definitions.update()
        .where(workflow_definitions.c.workflow_id == wf)
        .values(status="published")
    )


def tenant_with(engine: Engine, workflows: int) -> str:
    """A new tenant with ``workflows`` published workflows; exactly one listens to ``MATCH``."""
    with engine.begin() as conn:
        tenant = create_tenant(conn, f"bench-events-{workflows}-{time.time_ns()}")["id"]
        publish(conn, tenant, "match", "MATCH")
        for i in range(workflows - 1):
            publish(conn, tenant, f"other-{i:05d}", f"OTHER_{i}")
    return tenant


def latencies(engine: Engine, workflows: int, repeat: int) -> tuple[float, float]:
    """Median seconds of an event that matches nothing, and of one that starts a run."""
    reg = registry()
    tenant = tenant_with(engine, workflows)

    def emit(name: str) -> None:
        emit_event(UnitOfWork(engine), tenant, name, {"n": 1}, registry=reg, wait=True)

    emit("NOTHING")  # warm the connection pool and statement caches
    return median_seconds(lambda: emit("NOTHING"), repeat), median_seconds(
        lambda: emit("MATCH"), repeat
    )


def bench(name: str, engine: Engine, workflows: int, repeat: int) -> None:
    migrate.upgrade(engine)
    one = latencies(engine, 1, repeat)
    many = latencies(engine, workflows, repeat)
    for label, small, large in (("no match", one[0], many[0]), ("one run", one[1], many[1])):
        print(
            f"{name:10} {label:9} 1 workflow {small * 1000:8.2f} ms   {workflows} workflows "
            f"{large * 1000:8.2f} ms   ratio {large / small:5.2f}x  (median of {repeat})"
        )


@contextmanager
def served(engine: Engine) -> Iterator[str]:
    """The app on ``engine`` under a real uvicorn server on a loopback port; its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    url = engine.url.render_as_string(hide_password=False)
    app = create_app(Settings(database_url=url), engine=engine, registry=registry())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        while not server.started:
            time.sleep(0.02)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def rate(send: Callable[[], httpx.Response], requests: int) -> float:
    """Requests per second of ``requests`` sequential calls (each must answer 200)."""
    started = time.perf_counter()
    for _ in range(requests):
        response = send()
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.text[:200]}")
    return requests / (time.perf_counter() - started)


def http_rates(name: str, engine: Engine, rounds: int, requests: int = 40) -> None:
    tenant = tenant_with(engine, 1)
    with engine.begin() as conn:
        _, secret = create_api_key(conn, tenant, name="bench", permissions=PERMISSIONS)
    with served(engine) as base, httpx.Client(base_url=base) as client:
        headers = {"Authorization": f"Bearer {secret}"}

        def event(event_name: str, wait: bool) -> Callable[[], httpx.Response]:
            body = {"eventName": event_name, "payload": {"n": 1}}
            params = {"wait": "true"} if wait else {}
            return lambda: client.post("/api/workflow/events", json=body, params=params,
                                       headers=headers)  # fmt: skip

        kinds = {
            "healthz": lambda: client.get("/healthz"),
            "no match": event("NOTHING", False),
            "one run": event("MATCH", False),
            "one run, wait": event("MATCH", True),
        }
        for send in kinds.values():
            rate(send, 3)  # warm the pool, the caches and the connection
        samples: dict[str, list[float]] = {kind: [] for kind in kinds}
        for _ in range(rounds):
            for kind, send in kinds.items():
                samples[kind].append(rate(send, requests))
    healthz = statistics.median(samples.pop("healthz"))
    print(f"{name:10} GET /healthz {healthz:8.1f} req/s")
    for kind, values in samples.items():
        events = statistics.median(values)
        print(
            f"{name:10} POST /api/workflow/events ({kind:13}) {events:7.1f} req/s  "
            f"{events / healthz:5.2f}x healthz  (median of {rounds} rounds of {requests})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=5)
    args, _ = parser.parse_known_args()
    for name, engine in each_database("events"):
        bench(name, engine, args.workflows, args.repeat)
        http_rates(name, engine, args.rounds)


if __name__ == "__main__":
    main()
