"""Event latency with 1 vs many published workflows (an event no trigger names, and one that
starts one run), on SQLite and PostgreSQL, side by side with the ratio.

With the indexed trigger lookup the ratio stays near 1: the event reads only the workflows whose
trigger names it. PostgreSQL is the server of ``ALGAFLOW_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/algaflow_bench``), in a database named after it
with ``_events`` appended; it is skipped with a message when unreachable.

    python benchmarks/bench_events.py [--workflows 1000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from sqlalchemy.engine import Engine

from algaflow.registry import Registry, default_registry
from algaflow.services.events import emit_event
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store import migrate
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    args, _ = parser.parse_known_args()
    for name, engine in each_database("events"):
        bench(name, engine, args.workflows, args.repeat)


if __name__ == "__main__":
    main()
