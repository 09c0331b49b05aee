"""Steps per second and database round trips per step for a 1,000-item ``forEach``.

Each item runs a ``transform.assign`` and an ``action.call``; the run is driven the durable way (a
commit after every step), on SQLite and on PostgreSQL. Round trips are counted with a
``before_cursor_execute`` listener plus one per commit. Beside it, the commit-per-step floor: one
UPDATE of the run row and a commit per step, the least a driver that commits every step can do.
On PostgreSQL (psycopg) each transaction also opens with a ``BEGIN`` the count does not see; on
SQLite it is an explicit ``BEGIN IMMEDIATE`` and is counted. PostgreSQL comes from
``ALGAFLOW_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/
algaflow_bench``) and is skipped with a message when unreachable.

    python benchmarks/bench_runtime.py [--items 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from algaflow.registry import ActionDef, Registry, default_registry
from algaflow.runtime.embedded.driver import Driver, Launch
from algaflow.services.due_work import drive_runs
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store import migrate
from algaflow.store.engine import write_connection
from algaflow.store.run_tables import workflow_run_steps, workflow_runs
from algaflow.store.tables import workflow_definitions
from algaflow.store.tenants import create_tenant
from algaflow.store.workflows import create_workflow, insert_version
from benchmarks.databases import each_database


def definition(items: int) -> dict[str, Any]:
    return {
        "id": "bench",
        "version": 1,
        "name": "bench",
        "payloadSchemaRef": "payload.Bench.v1",
        "steps": [
            {
                "id": "each",
                "type": "control.forEach",
                "items": {"$expr": f"[1..{items}]"},
                "itemVar": "item",
                "body": [
                    {
                        "id": "assign",
                        "type": "transform.assign",
                        "config": {"assign": {"vars.last": {"$expr": "vars.item * 2"}}},
                    },
                    {
                        "id": "call",
                        "type": "action.call",
                        "config": {
                            "actionId": "bench.echo",
                            "version": 1,
                            "inputMapping": {"n": {"$expr": "vars.last"}},
                            "saveAs": "vars.out",
                        },
                    },
                ],
            }
        ],
    }


def register(reg: Any) -> None:
    """The benchmark's payload schema and action (also a plugin for worker processes)."""
    reg.schemas.register("payload.Bench.v1", {"type": "object"})
    reg.actions.register(
        ActionDef("bench.echo", 1, {"type": "object"}, {"type": "object"}, lambda a, c: a)
    )


def registry() -> Any:
    reg = default_registry()
    register(reg)
    return reg


class RoundTrips:
    """Statements sent plus commits: what a network database would answer one by one."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._statement)

    def _statement(self, *_args: Any) -> None:
        self.count += 1


def floor_rate(engine: Engine, run_id: str, steps: int) -> float:
    """Steps per second of the floor: one UPDATE and one commit per step."""
    update = workflow_runs.update().where(workflow_runs.c.run_id == run_id)
    with write_connection(engine) as conn:
        started = time.perf_counter()
        for step in range(steps):
            conn.execute(update.values(node_path=f"root.steps[{step}]"))
            conn.commit()
        return steps / (time.perf_counter() - started)


def record_runs(
    engine: Engine, reg: Registry, items: int, count: int, launch: Launch
) -> tuple[str, list[str]]:
    """A new tenant with the published benchmark workflow and ``count`` recorded runs of it
    (recorded only: the benchmarks time the driving alone)."""
    with engine.begin() as conn:
        tenant = create_tenant(conn, f"bench-{uuid.uuid4().hex[:12]}")["id"]
        wf = create_workflow(conn, tenant, key="bench", name="bench",
                             payload_schema_ref="payload.Bench.v1")  # fmt: skip
        body = definition(items)
        body["id"] = wf["workflow_id"]
        version = insert_version(conn, tenant, wf["workflow_id"], version=1, definition_json=body)
        conn.execute(
            workflow_definitions.update()
            .where(workflow_definitions.c.workflow_id == wf["workflow_id"])
            .values(status="published")
        )
        driver = Driver(conn, reg)
        runs = [driver.create_run(tenant, wf, version, {}, launch) for _ in range(count)]
    return tenant, runs


def bench_once(engine: Engine, items: int) -> tuple[float, int, int, float]:
    reg = registry()
    tenant, [run_id] = record_runs(engine, reg, items, 1, Launch(trigger_type="manual"))
    trips = RoundTrips(engine)
    started = time.perf_counter()
    drive_runs(UnitOfWork(engine), tenant, [run_id], registry=reg)
    elapsed = time.perf_counter() - started
    with engine.connect() as conn:
        steps = conn.execute(
            sa.select(sa.func.count()).where(workflow_run_steps.c.run_id == run_id)
        ).scalar_one()
    event.remove(engine, "before_cursor_execute", trips._statement)
    event.remove(engine, "commit", trips._statement)
    return elapsed, steps, trips.count, floor_rate(engine, run_id, steps)


def bench(name: str, engine: Engine, items: int, repeat: int) -> None:
    migrate.upgrade(engine)
    results = [bench_once(engine, items) for _ in range(repeat)]
    rate = statistics.median(steps / elapsed for elapsed, steps, _, _ in results)
    trips = statistics.median(count / steps for _, steps, count, _ in results)
    floor = statistics.median(floor for _, _, _, floor in results)
    steps = results[0][1]
    print(f"{name:10} {steps:6d} steps  {rate:9.1f} steps/s  {trips:5.2f} round trips/step  "
          f"commit-per-step floor {floor:7.1f} steps/s  {rate / floor:5.2f}x floor "
          f"(median of {repeat})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args, _ = parser.parse_known_args()
    for name, engine in each_database("runtime"):
        bench(name, engine, args.items, args.repeat)


if __name__ == "__main__":
    main()
